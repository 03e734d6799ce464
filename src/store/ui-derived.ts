/**
 * Derived tables the UI keeps so that a run of 1,000,000 results answers in milliseconds (migration
 * 0009_ui_scale): a finished run's Report (run_reports, one row per run, valid while its fingerprint
 * holds) and whether the SQLite full-text index of result texts holds a run (results_search_runs;
 * the index itself, results_fts, is built by search-index.ts). They hold nothing that the results
 * table does not: deleting them loses time, never data. The tables are defined in tables.ts;
 * results_fts, an FTS5 virtual table (SQLite only), is made on the first search, not by a migration.
 */
import { type Kysely, sql } from "kysely";
import { isoNow } from "../util/iso-now.js";
import type { Database } from "./schema.js";
import { writeRows } from "./write.js";

/** A finished run's summary JSON (what the UI lists about it), when stored for this status and finish time. */
export async function loadRunSummary(db: Kysely<Database>, runId: string, status: string, finishedAt: string | null): Promise<string | undefined> {
  const r = await db.selectFrom("run_summaries").select(["status", "finished_at", "summary_json"]).where("run_id", "=", runId).executeTakeFirst();
  return r && r.status === status && r.finished_at === finishedAt ? r.summary_json : undefined;
}

export async function saveRunSummary(db: Kysely<Database>, runId: string, status: string, finishedAt: string | null, json: string): Promise<void> {
  const row = { run_id: runId, status, finished_at: finishedAt, summary_json: json, built_at: isoNow() };
  await writeRows(db, [{ table: "run_summaries", rows: [row], conflict: "update" }]);
}

/** The stored Report JSON of a run, when it was stored under this fingerprint. */
export async function loadRunReport(db: Kysely<Database>, runId: string, fingerprint: string): Promise<string | undefined> {
  const r = await db.selectFrom("run_reports").select(["fingerprint", "report_json"]).where("run_id", "=", runId).executeTakeFirst();
  return r && r.fingerprint === fingerprint ? r.report_json : undefined;
}

export async function saveRunReport(db: Kysely<Database>, runId: string, fingerprint: string, reportJson: string): Promise<void> {
  const row = { run_id: runId, fingerprint, report_json: reportJson, built_at: isoNow() };
  await writeRows(db, [{ table: "run_reports", rows: [row], conflict: "update" }]);
}

/** A finished run's count of cases under one filter (the key names the filter and the run's state). */
export async function loadCaseTotal(db: Kysely<Database>, runId: string, key: string): Promise<number | undefined> {
  const r = await db.selectFrom("case_totals").select("total").where("run_id", "=", runId).where("query_key", "=", key).executeTakeFirst();
  return r ? Number(r.total) : undefined;
}

export async function saveCaseTotal(db: Kysely<Database>, runId: string, key: string, total: number): Promise<void> {
  await writeRows(db, [{ table: "case_totals", rows: [{ run_id: runId, query_key: key, total }], conflict: "update" }]);
}

/** Many of a run's case totals in one transaction (kept by the command that completed the run). */
export async function saveCaseTotals(db: Kysely<Database>, runId: string, totals: ReadonlyMap<string, number>): Promise<void> {
  const rows = [...totals].map(([key, total]) => ({ run_id: runId, query_key: key, total }));
  if (rows.length) await writeRows(db, [{ table: "case_totals", rows, conflict: "update" }]);
}

/** Whether results_fts holds this run's texts as they are now (indexed by search-index.ts, in the store's worker thread). */
export async function searchIndexed(db: Kysely<Database>, runId: string, fingerprint: string): Promise<boolean> {
  const r = await db.selectFrom("results_search_runs").select("fingerprint").where("run_id", "=", runId).executeTakeFirst();
  return r?.fingerprint === fingerprint;
}

/** Rowids of results whose texts may contain `text` (a trigram match: a superset of the case-insensitive substring), at most `max`. */
export async function searchCandidates(db: Kysely<Database>, text: string, max: number): Promise<number[]> {
  const phrase = `"${text.replace(/"/g, '""')}"`;
  const r = await sql<{ rowid: number }>`select rowid from results_fts where results_fts match ${phrase} limit ${max}`.execute(db);
  return r.rows.map((x) => x.rowid);
}
