/**
 * What a command that has just finished a run leaves for the UI, so that the run's first visit reads
 * rows instead of computing them (31 s for a run of 1,000,000 results): the run's Report (eval runs
 * with a baseline; run_reports, under the fingerprint the server checks) and its listing summary
 * (run_summaries: models, suites, planned size, counts). `eval` passes the rows and the summary it
 * already holds, so the Report costs its pooled figures and a serialise + insert; the red-team
 * command passes nothing and only its counts are read. Both rows are derived data: failing to write
 * them (a read-only store) loses time at the first visit, never data, and is reported, not thrown.
 */
import { type EvalSummary, openStoreFor } from "../../evaluate/index.js";
import type { ResultRecord } from "../../records/index.js";
import type { StoreHandle } from "../../store/index.js";
import { getRun, saveRunReport, saveRunSummary } from "../../store/index.js";
import { metaOf, type RunCounts } from "./http.js";
import { reportFingerprint } from "./report-job.js";
import { NeedsFullBuild, reportFromRows } from "./run-report.js";

export interface KeptRun {
  report: boolean;
  summary: boolean;
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
  if (!given || !fixed.baseline || run.kind !== "eval") return kept;
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
