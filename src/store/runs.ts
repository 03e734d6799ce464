import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Database, RunsTable } from "./schema.js";
import { writeRows } from "./write.js";

export type RunStatus = RunsTable["status"];

export interface RunRow {
  id: string;
  kind: string;
  createdAt: string;
  finishedAt: string | null;
  status: RunStatus;
  configPath: string;
  plan: unknown;
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")
    .replace("T", "-");
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function createRun(db: Kysely<Database>, run: { id: string; kind: string; configPath: string; plan: unknown }): Promise<void> {
  const row: RunsTable = {
    id: run.id,
    kind: run.kind,
    created_at: new Date().toISOString(),
    finished_at: null,
    status: "running",
    config_path: run.configPath,
    plan_json: JSON.stringify(run.plan),
    pid: process.pid,
    host: hostname(),
  };
  await writeRows(db, [{ table: "runs", rows: [row], conflict: "fail" }]);
}

export async function markRunning(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable("runs").set({ status: "running", pid: process.pid, host: hostname(), finished_at: null }).where("id", "=", id).execute();
}

export async function finishRun(db: Kysely<Database>, id: string, status: Exclude<RunStatus, "running">): Promise<void> {
  await db.updateTable("runs").set({ status, finished_at: new Date().toISOString() }).where("id", "=", id).execute();
}

/** Replace a run's stored plan (eval --until-decided records where each suite stopped, for runs show and report). */
export async function updateRunPlan(db: Kysely<Database>, id: string, plan: unknown): Promise<void> {
  await db
    .updateTable("runs")
    .set({ plan_json: JSON.stringify(plan) })
    .where("id", "=", id)
    .execute();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A run left "running" by a process that no longer exists (SIGKILL, crash) was interrupted. */
function effectiveStatus(r: { status: RunStatus; pid: number | null; host: string | null }): RunStatus {
  if (r.status !== "running") return r.status;
  if (r.host === hostname() && r.pid !== null && !processAlive(r.pid)) return "interrupted";
  return "running";
}

function toRow(r: RunsTable): RunRow {
  return {
    id: r.id,
    kind: r.kind,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    status: effectiveStatus(r),
    configPath: r.config_path,
    plan: JSON.parse(r.plan_json),
  };
}

export async function listRuns(db: Kysely<Database>, limit = 200): Promise<RunRow[]> {
  const rows = await db.selectFrom("runs").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute();
  return rows.map(toRow);
}

export async function getRun(db: Kysely<Database>, id: string): Promise<RunRow | undefined> {
  const r = await db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? toRow(r) : undefined;
}

/** Runs whose id starts with the given prefix (so users can type a short id). */
export async function findRuns(db: Kysely<Database>, prefix: string): Promise<RunRow[]> {
  const rows = await db
    .selectFrom("runs")
    .selectAll()
    .where("id", "like", `${prefix.replace(/[%_]/g, "")}%`)
    .limit(5)
    .execute();
  return rows.map(toRow);
}

/** Remove a run that recorded nothing (its preflight failed): no ghost "interrupted" run is left behind. Returns whether it was removed. */
export async function deleteRunIfEmpty(db: Kysely<Database>, id: string): Promise<boolean> {
  const any = await db.selectFrom("results").select("run_id").where("run_id", "=", id).limit(1).executeTakeFirst();
  if (any) return false;
  await db.deleteFrom("runs").where("id", "=", id).execute();
  return true;
}

/** Record extra facts learned while running (e.g. which endpoints were simulated) in the stored plan. */
export async function mergeIntoPlan(db: Kysely<Database>, id: string, extra: Record<string, unknown>): Promise<void> {
  const r = await db.selectFrom("runs").select("plan_json").where("id", "=", id).executeTakeFirst();
  if (!r) return;
  await db
    .updateTable("runs")
    .set({ plan_json: JSON.stringify({ ...(JSON.parse(r.plan_json) as object), ...extra }) })
    .where("id", "=", id)
    .execute();
}
