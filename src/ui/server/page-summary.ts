/**
 * The summary a run page shows when it has no Report (eval runs without a baseline, red-team runs):
 * computed from the run's rows as `runs show` computes it (texts are not read), and kept in
 * run_reports under the run's fingerprint once the run is complete, so that a big run's page is read,
 * not recomputed, at every visit. keep.ts stores it when the command finishes; the API reads it, and
 * keeps what it had to compute. Derived data: losing it costs time, never data.
 */
import type { EvalSummary, Plan } from "../../evaluate/index.js";
import { summarise, toolFactsOf } from "../../evaluate/index.js";
import type { ResultRecord } from "../../records/index.js";
import type { RunRow, StoreHandle } from "../../store/index.js";
import { loadResults, loadRunReport, saveRunReport } from "../../store/index.js";
import { reportFingerprint } from "./report-job.js";

/** Whether a run's page shows a summary (not a Report, not bench levels). */
export const showsSummary = (kind: string, baseline: string | null) => kind !== "bench" && !(kind === "eval" && baseline);

/** The summary of a run from its rows (all of them; texts unused). */
export async function summaryOfRows(store: StoreHandle, plan: Plan, runId: string, rows: ResultRecord[]): Promise<EvalSummary> {
  const toolFacts = await toolFactsOf(store, plan, runId);
  return summarise(plan, runId, rows, undefined, toolFacts ? { toolFacts } : {});
}

/** Keep the summary of a completed run (rows: what the command holds, else read without texts). */
export async function keepPageSummary(store: StoreHandle, run: RunRow, results: number, rows?: readonly ResultRecord[]): Promise<void> {
  const all = rows ? [...rows] : await loadResults(store.db, run.id, { withTexts: false });
  const summary = await summaryOfRows(store, run.plan as Plan, run.id, all);
  await saveRunReport(store.db, run.id, await reportFingerprint(store, run.status, run.finishedAt, results), JSON.stringify(summary));
}

/** The run page's summary: the kept one while the run's fingerprint holds, else computed (and kept once the run is complete). */
export async function pageSummary(store: StoreHandle, run: RunRow, results: number): Promise<EvalSummary> {
  const fp = run.status === "completed" ? await reportFingerprint(store, run.status, run.finishedAt, results) : undefined;
  const kept = fp === undefined ? undefined : await loadRunReport(store.db, run.id, fp);
  if (kept !== undefined) return JSON.parse(kept) as EvalSummary;
  const summary = await summaryOfRows(store, run.plan as Plan, run.id, await loadResults(store.db, run.id, { withTexts: false }));
  if (fp !== undefined) await saveRunReport(store.db, run.id, fp, JSON.stringify(summary)).catch(() => {}); // a read-only store: computed again next time
  return summary;
}
