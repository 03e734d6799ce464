/**
 * Text search of a run's cases through the SQLite full-text index (results_fts: trigram FTS5, so a
 * match is a case-insensitive substring, as the scan it replaces). A finished run is indexed on its
 * first search, in the store's worker thread (store/search-index.ts: the server's thread stays free
 * for requests), batch by batch (the API says how far it got); until then, and
 * for runs in flight, queries under 3 characters, and terms so common that the index would hand
 * back more than CAP rows (a scan finds a page of those at once), the cases API scans. On
 * PostgreSQL the same query is answered by the planner from pg_trgm indexes (migration 0012).
 * Index hits are candidates only: the cases query still applies the exact substring test.
 */

import type { Worker } from "node:worker_threads";
import { sql } from "kysely";
import type { StoreHandle } from "../../store/index.js";
import { type SearchIndexMessage, searchIndexed, sqliteThread } from "../../store/index.js";
import type { RunMeta } from "./http.js";

/** Most index hits used as a list of rows; more than this and the scan is faster. */
export const CAP = 5000;
/** Rows per transaction of the index build: the longest the server's own writes wait for the write lock. */
export const BATCH = 5000;

const NO_TRGM = "PostgreSQL without the pg_trgm extension (migration 0012 could not install it): search scans";

export type SearchState = { index: "ready"; via?: "pg_trgm" } | { index: "building"; done: number; total: number } | { index: "none"; reason: string };

export type SearchPlan = { rowids: number[] } | { scan: true };

export class SearchIndex {
  private readonly building = new Map<string, { done: number; total: number }>();
  private readonly ready = new Set<string>();
  private readonly failed = new Map<string, string>();
  private readonly workers = new Set<Worker>();
  private closing = false;
  private trigram: Promise<boolean> | undefined;
  constructor(
    private readonly store: StoreHandle,
    private readonly batch = BATCH,
  ) {}

  /** Stop the builds in flight (the server is closing); their runs are indexed again by the next server. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  /** How to answer a search of `q` in this run now, and what the index is doing. */
  async plan(meta: RunMeta, q: string): Promise<{ plan: SearchPlan; state: SearchState }> {
    const sqlite = this.store.sqlite;
    if (!sqlite) {
      // PostgreSQL: the query's ilike is answered from the pg_trgm indexes of migration 0012, where they exist.
      this.trigram ??= this.hasTrigramIndexes();
      return { plan: { scan: true }, state: (await this.trigram) ? { index: "ready", via: "pg_trgm" } : { index: "none", reason: NO_TRGM } };
    }
    if (meta.status === "running") return { plan: { scan: true }, state: { index: "none", reason: "the run is in flight: search scans" } };
    const key = `${meta.id}|${meta.status}|${meta.finishedAt ?? ""}`;
    const failed = this.failed.get(key);
    if (failed) return { plan: { scan: true }, state: { index: "none", reason: `indexing failed (${failed}): search scans` } };
    const b = this.building.get(key);
    if (b) return { plan: { scan: true }, state: { index: "building", ...b } };
    if (!this.ready.has(key)) {
      const n = await this.count(meta.id);
      const fp = `${key}|${n}`;
      if (!(await searchIndexed(this.store.db, meta.id, fp))) {
        this.start(meta.id, key, fp, n);
        return { plan: { scan: true }, state: { index: "building", done: 0, total: n } };
      }
      this.ready.add(key);
    }
    if (q.length < 3) return { plan: { scan: true }, state: { index: "ready" } };
    const phrase = `"${q.replace(/"/g, '""')}"`;
    const hits = await sql<{
      rowid: number;
    }>`select r.rowid as rowid from results_fts as f cross join results as r on r.rowid = f.rowid where results_fts match ${phrase} and r.run_id = ${meta.id} limit ${CAP + 1}`.execute(
      this.store.db,
    );
    if (hits.rows.length > CAP) return { plan: { scan: true }, state: { index: "ready" } };
    return { plan: { rowids: hits.rows.map((r) => Number(r.rowid)) }, state: { index: "ready" } };
  }

  private async hasTrigramIndexes(): Promise<boolean> {
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_indexes where indexname like 'results_trgm_%'`.execute(this.store.db);
    return Number(r.rows[0]?.n ?? 0) === 3;
  }

  private async count(runId: string): Promise<number> {
    const r = await this.store.db
      .selectFrom("results")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_id", "=", runId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private start(runId: string, key: string, fp: string, total: number): void {
    const progress = { done: 0, total };
    this.building.set(key, progress);
    const end = (failure?: string) => {
      if (failure === undefined) this.ready.add(key);
      else if (!this.closing) {
        this.failed.set(key, failure);
        process.stderr.write(`weightbridge ui: indexing run ${runId} for search failed: ${failure}\n`);
      }
      this.building.delete(key);
      this.workers.delete(worker);
    };
    const worker = sqliteThread(this.store, { role: "search-index", runId, fingerprint: fp, batch: this.batch });
    this.workers.add(worker);
    worker.unref(); // a build in flight does not keep the process alive
    let ended = false;
    const once = (failure?: string) => {
      if (!ended) end(failure);
      ended = true;
    };
    worker.on("message", (m: SearchIndexMessage) => {
      if ("done" in m) progress.done = m.done;
      else if ("indexed" in m) once();
      else once(m.error);
    });
    worker.on("error", (e) => once(e.message));
    worker.on("exit", (code) => once(`the indexing thread stopped (exit ${code})`));
  }
}
