/**
 * The SQLite full-text index of one run's result texts (results_fts: trigram FTS5, so a match is a
 * case-insensitive substring; recorded in results_search_runs), built batch by batch on a connection
 * of its own. It runs in the store's worker thread (sqlite-worker.ts, role "search-index"): indexing
 * 1,000,000 results takes minutes of CPU, which on the server's thread would hold every other request
 * for a batch at a time. Plain better-sqlite3 (no Kysely): the worker has only the connection.
 */
import type BetterSqlite3 from "better-sqlite3";

/** Trigram tokens: a match is a case-insensitive substring; contentless (rowid = results.rowid), entries deletable. */
export const FTS_DDL =
  "create virtual table if not exists results_fts using fts5(case_id, messages, output, content='', contentless_delete=1, tokenize='trigram')";

/**
 * Index one run's texts, `batch` rows per transaction (each a short hold of the write lock, so the
 * UI's own writes wait at most one batch); `progress` after each. Entries of an earlier index of the
 * run are removed first. Returns the rows indexed.
 */
export function indexRunTexts(db: BetterSqlite3.Database, runId: string, fingerprint: string, batch: number, progress: (done: number) => void): number {
  db.exec(FTS_DDL);
  // Only a run indexed before has entries to remove (a delete looks up every rowid: seconds for 1,000,000).
  // Entries left by deleted runs are harmless: a hit is only a candidate, checked against the row.
  db.transaction(() => {
    if (db.prepare("delete from results_search_runs where run_id = ?").run(runId).changes > 0)
      db.prepare("delete from results_fts where rowid in (select rowid from results where run_id = ?)").run(runId);
  })();
  const range = db.prepare("select count(*) as n, max(rowid) as hi from (select rowid from results where run_id = ? and rowid > ? order by rowid limit ?)");
  const insert = db.prepare(
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
  }
  db.prepare(
    "insert into results_search_runs (run_id, fingerprint, built_at) values (?, ?, ?) on conflict (run_id) do update set fingerprint = excluded.fingerprint, built_at = excluded.built_at",
  ).run(runId, fingerprint, new Date().toISOString());
  return done;
}
