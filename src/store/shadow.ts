/**
 * Shadow runs and captured traffic in the store (issue 20). A mirrored request is a pair of rows in
 * `results` (the primary's answer and the shadow deployment's, same case index) under a run of kind
 * `shadow`, so `runs`, `runs diff`, `report` and the UI read it like any run; what never became a
 * pair (dropped, skipped by policy) is counted in `shadow_counts`. The rows are written through the
 * gateway's durable writer (audit-writer.ts `writeRows`), in the same commits as the audit rows.
 */
import { hostname } from "node:os";
import { type Kysely, sql } from "kysely";
import { uuidV7 } from "./gateway.js";
import type { Database, GatewayCapturesTable, ResultsTable } from "./schema.js";
import type { RowWrite } from "./write.js";

/** A shadow run's row: created on its first pair; a gateway restarted the same day takes it up again (running, this process). */
export function shadowRunWrite(r: { id: string; configPath: string; plan: unknown; createdAt: string }): RowWrite {
  return {
    table: "runs",
    conflict: "update",
    rows: [
      {
        id: r.id,
        kind: "shadow",
        created_at: r.createdAt,
        finished_at: null,
        status: "running",
        config_path: r.configPath,
        plan_json: JSON.stringify(r.plan),
        pid: process.pid,
        host: hostname(),
      },
    ],
  };
}

/** A half of a pair; a half already stored is kept. */
export const resultWrite = (row: ResultsTable): RowWrite => ({ table: "results", conflict: "ignore", rows: [row] });

/** Dropped and skipped counts since the last write (deltas, summed when read). */
export function countsWrite(runId: string, deployment: string, dropped: number, skippedByPolicy: number): RowWrite {
  return {
    table: "shadow_counts",
    conflict: "fail",
    rows: [{ id: uuidV7(), run_id: runId, deployment, time: new Date().toISOString(), dropped, skipped_by_policy: skippedByPolicy }],
  };
}

export const captureWrite = (row: GatewayCapturesTable): RowWrite => ({ table: "gateway_captures", conflict: "fail", rows: [row] });

/**
 * Delete a route's captures older than `before` (ISO time). On SQLite a plain DELETE only unlinks the
 * rows: their text stays in the file's freed pages until reused. `secure_delete` (set on the
 * connection that deletes: the store's own, whose other deletes are rare) overwrites them with
 * zeros, so the checkpointer carries zeros, not the expired text, into the file.
 */
export async function purgeCaptures(store: { db: Kysely<Database>; sqlite?: { pragma(s: string): unknown } }, route: string, before: string): Promise<void> {
  store.sqlite?.pragma("secure_delete = ON");
  await store.db.deleteFrom("gateway_captures").where("route", "=", route).where("time", "<", before).execute();
}

/** The next free case index of a shadow run (a gateway restarted the same day continues after it). */
export async function nextShadowCase(db: Kysely<Database>, runId: string): Promise<number> {
  const r = await db.selectFrom("results").select(sql<number | null>`max(case_index)`.as("m")).where("run_id", "=", runId).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? 0 : Number(r.m) + 1;
}

export interface ShadowCounts {
  dropped: number;
  skippedByPolicy: number;
}

/** Dropped and skipped-by-policy counts per deployment over the given runs. */
export async function loadShadowCounters(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, ShadowCounts>> {
  const out = new Map<string, ShadowCounts>();
  if (runIds.length === 0) return out;
  const rows = await db
    .selectFrom("shadow_counts")
    .select(["deployment", "dropped", "skipped_by_policy"])
    .where("run_id", "in", [...runIds])
    .execute();
  for (const r of rows) {
    const c = out.get(r.deployment) ?? { dropped: 0, skippedByPolicy: 0 };
    c.dropped += Number(r.dropped);
    c.skippedByPolicy += Number(r.skipped_by_policy);
    out.set(r.deployment, c);
  }
  return out;
}

/** Results of the given runs created at or after `since` (ISO), texts included. */
export async function loadShadowResults(db: Kysely<Database>, runIds: readonly string[], since: string): Promise<ResultsTable[]> {
  if (runIds.length === 0) return [];
  return db
    .selectFrom("results")
    .selectAll()
    .where("run_id", "in", [...runIds])
    .where("created_at", ">=", since)
    .orderBy("run_id")
    .orderBy("case_index")
    .execute();
}

/** Captured requests of a route at or after `since`, oldest first. */
export async function loadCaptures(db: Kysely<Database>, route: string, since: string): Promise<GatewayCapturesTable[]> {
  return db.selectFrom("gateway_captures").selectAll().where("route", "=", route).where("time", ">=", since).orderBy("time").orderBy("id").execute();
}
