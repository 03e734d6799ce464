/**
 * What a command that has just finished a run leaves for the UI, so that the run's first visit reads
 * rows instead of computing them (31 s for a run of 1,000,000 results): the run's Report (eval runs
 * with a baseline; run_reports, under the fingerprint the server checks), its listing
 * (run_summaries: models, suites, planned size, counts) and the totals of the case table's filters
 * the run page links to (case_totals: all, failed, passed, errors per model and for the run;
 * changed, regressions and improvements per candidate and for the run). `eval` passes the rows and
 * the summary it already holds: the Report reuses the summary's per-suite figures and adds its
 * pooled ones; the red-team command passes nothing and only its counts are read. All of it is
 * derived data: failing to write it (a read-only store) loses time at the first visit, never data,
 * and is reported, not thrown.
 */
import { type EvalSummary, openStoreFor } from "../../evaluate/index.js";
import type { ResultRecord } from "../../records/index.js";
import type { StoreHandle } from "../../store/index.js";
import { getRun, type RunRow, saveCaseTotals, saveRunReport, saveRunSummary } from "../../store/index.js";
import { caseTotalKey, metaOf, type RunCounts } from "./http.js";
import { keepPageSummary, showsSummary } from "./page-summary.js";
import { reportFingerprint } from "./report-job.js";
import { NeedsFullBuild, reportFromRows } from "./run-report.js";

export interface KeptRun {
  report: boolean;
  summary: boolean;
}

const PLAIN = ["all", "failed", "passed", "errors"] as const;
const VS_BASELINE = ["changed", "regressions", "improvements"] as const;

/** The case table's totals under each filter the run page links to, counted from the rows as cases.ts counts them in SQL. */
function caseTotalsOf(run: RunRow, rows: readonly ResultRecord[], baseline: string | null): Map<string, number> {
  // Per model ("" for the whole run), per filter; a row counts for its model and for the run.
  const counts = new Map<string, Record<string, number>>();
  const of = (model: string) => counts.get(model) ?? (counts.set(model, {}).get(model) as Record<string, number>);
  const filters = (model: string) => (baseline === null || model === baseline ? PLAIN : [...PLAIN, ...VS_BASELINE]);
  for (const m of ["", ...new Set(rows.map((r) => r.modelId))]) for (const f of filters(m)) of(m)[f] = 0;
  const at = (r: ResultRecord) => `${r.suite}\u0000${r.caseIndex}\u0000${r.repeat}`;
  const base = new Map<string, boolean>();
  if (baseline !== null) for (const r of rows) if (r.modelId === baseline) base.set(at(r), r.passed);
  for (const r of rows) {
    const b = r.modelId === baseline ? undefined : base.get(at(r));
    const hit = ["all", r.passed ? "passed" : "failed"];
    if (r.error !== null) hit.push("errors");
    if (b !== undefined && b !== r.passed) hit.push("changed", b ? "regressions" : "improvements");
    for (const c of [of(""), of(r.modelId)]) for (const f of hit) c[f] = (c[f] ?? 0) + 1;
  }
  const out = new Map<string, number>();
  for (const [m, byFilter] of counts)
    for (const [f, total] of Object.entries(byFilter)) out.set(caseTotalKey(run.status, run.finishedAt, { model: m || undefined, filter: f }), total);
  return out;
}

/** Results, errors and cost of the rows (as the runs list counts them in SQL: cost null when no row has one). */
function countsOf(rows: readonly ResultRecord[]): RunCounts {
  let errors = 0;
  let pusd: number | null = null; // integers: exact below 2^53 pico-USD ($9,007)
  for (const r of rows) {
    if (r.error !== null) errors++;
    if (r.costPusd !== null) pusd = (pusd ?? 0) + r.costPusd;
  }
  return { results: rows.length, errors, costUsd: pusd === null ? null : pusd / 1e12 };
}

async function countsIn(store: StoreHandle, runId: string): Promise<RunCounts> {
  const r = await store.db
    .selectFrom("results")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.count<number>("error").as("errors"), eb.fn.sum<number | null>("cost_pusd").as("cost")])
    .where("run_id", "=", runId)
    .executeTakeFirstOrThrow();
  return { results: Number(r.n), errors: Number(r.errors), costUsd: r.cost === null ? null : Number(r.cost) / 1e12 };
}

/**
 * Keep a just-finished run's Report and summary for the UI. `given`: every result of the run (texts
 * optional) and the summary against the plan's baseline, as eval computed them.
 */
export async function keepRunForUi(store: StoreHandle, runId: string, given?: { rows: readonly ResultRecord[]; summary: EvalSummary }): Promise<KeptRun> {
  const run = await getRun(store.db, runId);
  const kept = { report: false, summary: false };
  // A run in flight or stopped half-way changes again; it is kept when it completes (on --resume).
  if (run?.status !== "completed") return kept;
  const counts = given ? countsOf(given.rows) : await countsIn(store, runId);
  const { status: _s, finishedAt: _f, ...fixed } = metaOf(run);
  await saveRunSummary(store.db, run.id, run.status, run.finishedAt, JSON.stringify({ ...fixed, counts }));
  kept.summary = true;
  if (given) await saveCaseTotals(store.db, run.id, caseTotalsOf(run, given.rows, fixed.baseline));
  if (showsSummary(run.kind, fixed.baseline)) {
    await keepPageSummary(store, run, counts.results, given?.rows);
    kept.report = true;
    return kept;
  }
  if (!given || run.kind !== "eval") return kept;
  let report: Awaited<ReturnType<typeof reportFromRows>>;
  try {
    report = await reportFromRows(store, run, given.rows, given.summary);
  } catch (e) {
    if (e instanceof NeedsFullBuild) return kept; // built by report's own code at the first visit
    throw e;
  }
  const fp = await reportFingerprint(store, run.status, run.finishedAt, counts.results);
  await saveRunReport(store.db, run.id, fp, JSON.stringify(report));
  kept.report = true;
  return kept;
}

/**
 * keepRunForUi on the store of a config (the one the command that ran it used): for eval and
 * redteam at the end of a run. Returns what went wrong, if anything, for the command to warn about.
 */
export async function keepFinishedRun(
  config: string | undefined,
  runId: string,
  given?: { rows: readonly ResultRecord[]; summary: EvalSummary },
): Promise<string | undefined> {
  try {
    const { store } = await openStoreFor(config);
    try {
      await keepRunForUi(store, runId, given);
    } finally {
      await store.close();
    }
    return undefined;
  } catch (e) {
    return `the run's page for \`weightbridge ui\` was not kept (${(e as Error).message}); the UI builds it at the first visit`;
  }
}
