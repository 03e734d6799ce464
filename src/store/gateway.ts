/** The gateway's keys and audit trail: its GatewayKey and AuditRow (src/records/) mapped to rows and back. */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { AuditAttempt, AuditRow, GatewayKey } from "../records/index.js";
import type { Database, GatewayAuditTable, GatewayKeysTable } from "./schema.js";
import { writeRows } from "./write.js";

const fromRow = (r: GatewayKeysTable): GatewayKey => ({
  name: r.name,
  keyHash: r.key_hash,
  routes: r.routes_json ? (JSON.parse(r.routes_json) as string[]) : null,
  rpm: r.rpm,
  tpm: r.tpm,
  budgetUsd: r.budget_usd,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export async function insertKey(db: Kysely<Database>, k: Omit<GatewayKey, "createdAt" | "revokedAt">): Promise<void> {
  const row: GatewayKeysTable = {
    name: k.name,
    key_hash: k.keyHash,
    routes_json: k.routes ? JSON.stringify(k.routes) : null,
    rpm: k.rpm,
    tpm: k.tpm,
    budget_usd: k.budgetUsd,
    created_at: new Date().toISOString(),
    revoked_at: null,
  };
  await writeRows(db, [{ table: "gateway_keys", rows: [row], conflict: "fail" }]);
}

export async function listKeys(db: Kysely<Database>): Promise<GatewayKey[]> {
  return (await db.selectFrom("gateway_keys").selectAll().orderBy("created_at").execute()).map(fromRow);
}

export async function findKey(db: Kysely<Database>, keyHash: string): Promise<GatewayKey | undefined> {
  const r = await db.selectFrom("gateway_keys").selectAll().where("key_hash", "=", keyHash).executeTakeFirst();
  return r ? fromRow(r) : undefined;
}

export async function revokeKey(db: Kysely<Database>, name: string): Promise<boolean> {
  const r = await db
    .updateTable("gateway_keys")
    .set({ revoked_at: new Date().toISOString() })
    .where("name", "=", name)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * A time-ordered UUID (version 7: 48-bit milliseconds, then random bits), so audit rows are appended
 * at the end of the id index instead of at random places in it (fewer pages written per commit).
 */
let pool = Buffer.alloc(0);
let poolAt = 0;
export function uuidV7(now = Date.now()): string {
  // Random bytes drawn 4 KiB at a time: one randomBytes call per id cost ~15 µs here.
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const b = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function auditValues(a: AuditRow): GatewayAuditTable {
  // Field by field (no rest/spread: V8's slow path, on every request the gateway audits).
  return {
    id: uuidV7(),
    time: a.time,
    key_name: a.key_name,
    route: a.route,
    deployment: a.deployment,
    classes_json: JSON.stringify(a.classes),
    action: a.action,
    status: a.status,
    input_tokens: a.input_tokens,
    output_tokens: a.output_tokens,
    cost_pusd: a.cost_pusd,
    latency_ms: a.latency_ms,
    body: a.body,
    response_classes_json: a.response_classes ? JSON.stringify(a.response_classes) : null,
    upstream_sha256: a.upstream_sha256 ?? null,
    attempts_json: a.attempts?.length ? JSON.stringify(a.attempts) : null,
  };
}

export interface AuditTotals {
  group: string | null;
  requests: number;
  blocked: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Metering totals per key, deployment or route (optionally since a time / for one key). */
export async function summariseAudit(
  db: Kysely<Database>,
  by: "key" | "deployment" | "route",
  filter: { since?: string; key?: string } = {},
): Promise<AuditTotals[]> {
  const col = by === "key" ? "key_name" : by;
  let q = db
    .selectFrom("gateway_audit")
    .select((eb) => [
      eb.ref(col).as("grp"),
      eb.fn.countAll<number>().as("requests"),
      eb.fn.sum<number>(eb.case().when("action", "=", "blocked").then(1).else(0).end()).as("blocked"),
      eb.fn.sum<number>(eb.case().when("action", "=", "failed").then(1).else(0).end()).as("failed"),
      eb.fn.sum<number>("input_tokens").as("input"),
      eb.fn.sum<number>("output_tokens").as("output"),
      eb.fn.sum<number>("cost_pusd").as("cost"),
    ])
    .groupBy(col)
    .orderBy(col);
  if (filter.since) q = q.where("time", ">=", filter.since);
  if (filter.key) q = q.where("key_name", "=", filter.key);
  return (await q.execute()).map((r) => ({
    group: (r.grp as string | null) ?? null,
    requests: Number(r.requests),
    blocked: Number(r.blocked ?? 0),
    failed: Number(r.failed ?? 0),
    inputTokens: Number(r.input ?? 0),
    outputTokens: Number(r.output ?? 0),
    costUsd: Number(r.cost ?? 0) / 1e12,
  }));
}

export async function listAudit(db: Kysely<Database>, filter: { since?: string; key?: string } = {}): Promise<(AuditRow & { id: string })[]> {
  let q = db.selectFrom("gateway_audit").selectAll().orderBy("time");
  if (filter.since) q = q.where("time", ">=", filter.since);
  if (filter.key) q = q.where("key_name", "=", filter.key);
  return (await q.execute()).map(({ classes_json, response_classes_json, attempts_json, ...r }) => ({
    ...r,
    attempts: attempts_json ? (JSON.parse(attempts_json) as AuditAttempt[]) : null,
    classes: JSON.parse(classes_json) as Record<string, number>,
    response_classes: response_classes_json ? (JSON.parse(response_classes_json) as Record<string, number>) : null,
  }));
}
