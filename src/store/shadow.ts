/**
 * Shadow runs and captured traffic in the store (issue 20). A mirrored request is a pair of rows in
 * `results` (the primary's answer and the shadow deployment's, same case index) under a run of kind
 * `shadow`, so `runs`, `runs diff`, `report` and the UI read it like any run; what never became a
 * pair (dropped, skipped by policy) is counted in `shadow_counters`. Writes go through the gateway's
 * durable writer (audit-writer.ts) as the statements below, committed with the audit rows.
 */
import { type Kysely, sql } from "kysely";
import { RESULT_COLUMNS } from "./results.js";
import type { Database, GatewayCapturesTable, ResultsTable } from "./schema.js";

const RUN_COLUMNS = ["id", "kind", "created_at", "finished_at", "status", "config_path", "plan_json", "pid", "host"] as const;
const CAPTURE_COLUMNS: (keyof GatewayCapturesTable)[] = ["id", "route", "time", "deployment", "request_json", "answer", "classes_json", "request_sha256"];
const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** Statements the durable writer may run besides audit rows (portable SQL: SQLite and PostgreSQL). */
export const EXTRA_STATEMENTS = {
  /** A shadow run is created on its first pair; a gateway restarted the same day takes it up again. */
  run: `INSERT INTO runs (${RUN_COLUMNS.join(", ")}) VALUES (${marks(RUN_COLUMNS.length)}) ON CONFLICT (id) DO UPDATE SET status = 'running', finished_at = NULL, pid = excluded.pid, host = excluded.host, plan_json = excluded.plan_json`,
  result: `INSERT INTO results (${RESULT_COLUMNS.join(", ")}) VALUES (${marks(RESULT_COLUMNS.length)}) ON CONFLICT (run_id, suite, case_index, model_id, repeat) DO NOTHING`,
  counter:
    "INSERT INTO shadow_counters (run_id, deployment, dropped, skipped_by_policy) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, deployment) DO UPDATE SET dropped = shadow_counters.dropped + excluded.dropped, skipped_by_policy = shadow_counters.skipped_by_policy + excluded.skipped_by_policy",
  capture: `INSERT INTO gateway_captures (${CAPTURE_COLUMNS.join(", ")}) VALUES (${marks(CAPTURE_COLUMNS.length)})`,
  purgeCaptures: "DELETE FROM gateway_captures WHERE route = ? AND time < ?",
  /** The gateway stopped: its shadow runs are complete until it starts again. */
  finishRun: "UPDATE runs SET status = 'completed', finished_at = ? WHERE id = ?",
} as const;
export type ExtraStatement = { stmt: keyof typeof EXTRA_STATEMENTS; values: unknown[] };

export function runStatement(r: { id: string; configPath: string; plan: unknown; createdAt: string; pid: number; host: string }): ExtraStatement {
  return { stmt: "run", values: [r.id, "shadow", r.createdAt, null, "running", r.configPath, JSON.stringify(r.plan), r.pid, r.host] };
}

export function resultStatement(row: ResultsTable): ExtraStatement {
  return { stmt: "result", values: RESULT_COLUMNS.map((c) => row[c]) };
}

export function counterStatement(runId: string, deployment: string, dropped: number, skippedByPolicy: number): ExtraStatement {
  return { stmt: "counter", values: [runId, deployment, dropped, skippedByPolicy] };
}

export function captureStatement(row: GatewayCapturesTable): ExtraStatement {
  return { stmt: "capture", values: CAPTURE_COLUMNS.map((c) => row[c]) };
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
    .selectFrom("shadow_counters")
    .selectAll()
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
  return (await db
    .selectFrom("results")
    .selectAll()
    .where("run_id", "in", [...runIds])
    .where("created_at", ">=", since)
    .orderBy("run_id")
    .orderBy("case_index")
    .execute()) as ResultsTable[];
}

/** Captured requests of a route at or after `since`, oldest first. */
export async function loadCaptures(db: Kysely<Database>, route: string, since: string): Promise<GatewayCapturesTable[]> {
  return db.selectFrom("gateway_captures").selectAll().where("route", "=", route).where("time", ">=", since).orderBy("time").orderBy("id").execute();
}
