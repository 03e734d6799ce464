/**
 * /api/v1/runs (every kind, newest first, keyset-paginated on the (created_at, id) index) and
 * /api/v1/runs/:id (its Report for eval runs with a baseline, built by src/report — in a child process
 * for big runs, see report-job.ts; the summary otherwise).
 */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { z } from "zod";
import type { StoreHandle } from "../../store/index.js";
import { getRun, loadBenchLevels } from "../../store/index.js";
import { sendTable } from "./export.js";
import { ApiError, parseQuery, type RunCache, type RunCounts, type RunMeta } from "./http.js";
import { pageSummary } from "./page-summary.js";
import { ReportCache } from "./report-job.js";

const RunsQuery = z.object({
  kind: z.string().max(40).optional(),
  status: z.enum(["running", "completed", "interrupted", "failed"]).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Keyset cursor: the `nextCursor` of the previous page. */
  cursor: z
    .string()
    .max(200)
    .regex(/^[^|]+\|[^|]+$/)
    .optional(),
  format: z.enum(["json", "csv", "jsonl"]).default("json"),
});

/** Results, errors and cost per run; finished runs' counts are kept (they no longer change). */
class CountCache {
  private readonly done = new Map<string, RunCounts>();
  constructor(
    private readonly store: StoreHandle,
    private readonly runs: RunCache,
  ) {}
  async of(runs: readonly RunMeta[]): Promise<Map<string, RunCounts>> {
    const out = new Map<string, RunCounts>();
    for (const r of runs) {
      const kept = this.runs.storedCounts(r.id);
      if (kept && r.status !== "running" && !this.done.has(r.id)) this.done.set(r.id, kept);
    }
    const need = runs.filter((r) => !this.done.has(r.id));
    if (need.length) {
      // Three queries, each answered from its own covering index (primary key, the partial index of
      // errors, the cost index) — one query computing all three would read every row of the table.
      const ids = need.map((r) => r.id);
      const db = this.store.db;
      const [n, errors, cost] = await Promise.all([
        db
          .selectFrom("results")
          .select((eb) => ["run_id", eb.fn.countAll<number>().as("v")])
          .where("run_id", "in", ids)
          .groupBy("run_id")
          .execute(),
        this.store.dialect === "sqlite"
          ? // Without statistics SQLite would pick the cost index and read every row to test `error`.
            sql<{
              run_id: string;
              v: number;
            }>`select run_id, count(*) as v from results indexed by results_ui_errors where run_id in (${sql.join(ids)}) and error is not null group by run_id`
              .execute(db)
              .then((r) => r.rows)
          : db
              .selectFrom("results")
              .select((eb) => ["run_id", eb.fn.countAll<number>().as("v")])
              .where("run_id", "in", ids)
              .where("error", "is not", null)
              .groupBy("run_id")
              .execute(),
        db
          .selectFrom("results")
          .select((eb) => ["run_id", eb.fn.sum<number | null>("cost_pusd").as("v")])
          .where("run_id", "in", ids)
          .groupBy("run_id")
          .execute(),
      ]);
      const by = (rows: { run_id: string; v: number | null }[]) => new Map(rows.map((r) => [r.run_id, r.v]));
      const [nBy, errBy, costBy] = [by(n), by(errors), by(cost)];
      const rows = ids.map((id) => ({ run_id: id, n: nBy.get(id) ?? 0, errors: errBy.get(id) ?? 0, cost: costBy.get(id) ?? null }));
      const got = new Map(rows.map((r) => [r.run_id, r]));
      for (const r of need) {
        const g = got.get(r.id);
        const c = {
          results: Number(g?.n ?? 0),
          errors: Number(g?.errors ?? 0),
          costUsd: g?.cost === null || g?.cost === undefined ? null : Number(g.cost) / 1e12,
        };
        out.set(r.id, c);
        if (r.status !== "running") {
          this.done.set(r.id, c);
          await this.runs.remember(r, c);
        }
      }
    }
    for (const r of runs) if (!out.has(r.id)) out.set(r.id, this.done.get(r.id) as RunCounts);
    return out;
  }
}

const RunQuery = z.object({
  /** Wait for a Report being built instead of answering with its progress (scripts). */
  wait: z.enum(["1", "true", "0", "false"]).optional(),
});

export function registerRunRoutes(app: FastifyInstance, store: StoreHandle, runs: RunCache, reportInChildAbove?: number, reportGraceMs?: number): void {
  const counts = new CountCache(store, runs);
  const reports = new ReportCache(store, reportInChildAbove, reportGraceMs);

  app.get("/api/v1/runs", async (req, reply) => {
    const q = parseQuery(RunsQuery, req.query);
    let query = store.db.selectFrom("runs").select(["id", "status", "finished_at", "created_at", "kind"]);
    if (q.kind) query = query.where("kind", "=", q.kind);
    if (q.status && q.status !== "running" && q.status !== "interrupted") query = query.where("status", "=", q.status);
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) =>
        eb.or([sql<boolean>`id like ${like} escape '\\'`, sql<boolean>`kind like ${like} escape '\\'`, sql<boolean>`config_path like ${like} escape '\\'`]),
      );
    }
    if (q.cursor) {
      const [at, id] = q.cursor.split("|") as [string, string];
      query = query.where((eb) => eb.or([eb("created_at", "<", at), eb.and([eb("created_at", "=", at), eb("id", "<", id)])]));
    }
    // Running and interrupted are told apart by whether the process lives: filter after reading.
    const rows = await query
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    const metas: RunMeta[] = [];
    for (const r of page) {
      const m = await runs.meta(r.id, r);
      if (!m) continue;
      if (m.status === "running") m.status = (await getRun(store.db, r.id))?.status ?? m.status;
      if (!q.status || m.status === q.status) metas.push(m);
    }
    const c = await counts.of(metas);
    const list = metas.map((m) => ({ ...m, ...(c.get(m.id) as RunCounts) }));
    const last = page.at(-1);
    const nextCursor = rows.length > q.limit && last ? `${last.created_at}|${last.id}` : null;
    return sendTable(reply, q.format, "runs", { runs: list, nextCursor }, list.map(flatRun));
  });

  app.get<{ Params: { id: string } }>("/api/v1/runs/:id", async (req) => {
    const q = parseQuery(RunQuery, req.query);
    const meta = await runs.require(req.params.id);
    if (meta.status === "running") meta.status = (await getRun(store.db, meta.id))?.status ?? meta.status;
    const c = (await counts.of([meta])).get(meta.id);
    const run = { ...meta, ...c };
    if (meta.kind === "bench") return { run, benchLevels: await loadBenchLevels(store.db, meta.id) };
    if (meta.kind === "eval" && meta.baseline) {
      const state = await reports.get(meta, c?.results ?? 0, meta.status !== "running", q.wait === "1" || q.wait === "true");
      // While the Report is built (the first visit of a run no command kept it for): its progress, at once.
      return "report" in state ? { run, report: state.report } : { run, report: null, reportBuilding: state.building };
    }
    const full = await getRun(store.db, meta.id);
    if (!full) throw new ApiError(404, `no run "${meta.id}"`);
    return { run, summary: await pageSummary(store, full, c?.results ?? 0) };
  });
}

function flatRun(r: RunMeta & RunCounts): Record<string, unknown> {
  const { modelRefs: _refs, ...rest } = r;
  return { ...rest, models: r.models.join(" "), suites: r.suites.join(" ") };
}
