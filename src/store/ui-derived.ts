/**
 * Derived tables the UI keeps so that a run of 1,000,000 results answers in milliseconds (migration
 * 0009_ui_scale): a finished run's Report (run_reports, one row per run, valid while its fingerprint
 * holds) and the SQLite full-text index of result texts (results_fts, trigram FTS5, built per run
 * and recorded in results_search_runs). They hold nothing that the results table does not: deleting
 * them loses time, never data. The tables are defined in tables.ts; results_fts, an FTS5 virtual
 * table (SQLite only), is made here on the first search, not by a migration.
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

/** Trigram tokens: a match is a case-insensitive substring; contentless (rowid = results.rowid), entries deletable. */
const FTS_DDL = "create virtual table if not exists results_fts using fts5(case_id, messages, output, content='', contentless_delete=1, tokenize='trigram')";

/** Whether results_fts holds this run's texts as they are now. */
export async function searchIndexed(db: Kysely<Database>, runId: string, fingerprint: string): Promise<boolean> {
  const r = await db.selectFrom("results_search_runs").select("fingerprint").where("run_id", "=", runId).executeTakeFirst();
  return r?.fingerprint === fingerprint;
}

/**
 * Index one run's texts (SQLite only), `batch` rows per transaction; calls `progress` after each and
 * yields to the event loop between batches (a batch of 5,000 takes ~0.1 s unloaded: the longest any
 * other request waits). Entries of an earlier index of the run are removed first.
 */
export async function buildSearchIndex(
  sqlite: import("better-sqlite3").Database,
  db: Kysely<Database>,
  runId: string,
  fingerprint: string,
  progress: (done: number) => void,
  batch = 5_000,
): Promise<void> {
  sqlite.exec(FTS_DDL);
  // Only a run indexed before has entries to remove (a delete looks up every rowid: seconds for 1,000,000).
  // Entries left by deleted runs are harmless: a hit is only a candidate, checked against the row.
  if (sqlite.prepare("delete from results_search_runs where run_id = ?").run(runId).changes > 0)
    sqlite.prepare("delete from results_fts where rowid in (select rowid from results where run_id = ?)").run(runId);
  const range = sqlite.prepare("select count(*) as n, max(rowid) as hi from (select rowid from results where run_id = ? and rowid > ? order by rowid limit ?)");
  const insert = sqlite.prepare(
    "insert into results_fts (rowid, case_id, messages, output) select rowid, case_id, messages_json, output from results where run_id = ? and rowid > ? and rowid <= ?",
  );
  let last = -1;
  let done = 0;
  for (;;) {
    const { n, hi } = range.get(runId, last, batch) as { n: number; hi: number | null };
    if (n === 0 || hi === null) break;
    insert.run(runId, last, hi);
    last = hi;
    done += n;
    progress(done);
    await new Promise((r) => setImmediate(r));
  }
  await writeRows(db, [{ table: "results_search_runs", rows: [{ run_id: runId, fingerprint, built_at: isoNow() }], conflict: "update" }]);
}

/** Rowids of results whose texts may contain `text` (a trigram match: a superset of the case-insensitive substring), at most `max`. */
export async function searchCandidates(db: Kysely<Database>, text: string, max: number): Promise<number[]> {
  const phrase = `"${text.replace(/"/g, '""')}"`;
  const r = await sql<{ rowid: number }>`select rowid from results_fts where results_fts match ${phrase} limit ${max}`.execute(db);
  return r.rows.map((x) => x.rowid);
}
