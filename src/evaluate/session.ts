/**
 * One evaluation from the user's point of view: load config, plan (or reload the plan of a run
 * being resumed), run, record the run's status, summarise from the store.
 */
import { dirname } from "node:path";
import { loadConfigOnly, loadProjectAsync, resolveStoreUrl } from "../config/index.js";
import type { ProviderError } from "../providers/index.js";
import type { ResultRecord } from "../records/index.js";
import {
  createRun,
  deleteRunIfEmpty,
  findRuns,
  finishRun,
  listRuns,
  loadPrices,
  loadResults,
  loadTurnFacts,
  markRunning,
  newRunId,
  openStore,
  type RunRow,
  type StoreHandle,
  sortedResults,
  updateRunPlan,
} from "../store/index.js";
import { UserError } from "../util/errors.js";
import { type ModelFailures, modelFailures } from "./failures.js";
import { buildPlan, type Plan, planSize } from "./plan.js";
import { preflight } from "./preflight.js";
import { decisionRecord } from "./record.js";
import { type RunOptions, type RunOutcome, runPlan } from "./runner.js";
import { DEFAULT_MARGIN, type EvalSummary, summarise } from "./summary.js";

export interface EvaluateOptions {
  config?: string;
  suites?: string[];
  models?: string[];
  repeat?: number;
  concurrency?: number;
  noCache?: boolean;
  resume?: string;
  signal?: AbortSignal;
  onStart?: (info: { runId: string; total: number; resumed: boolean; storeLocation: string }) => void;
  onProgress?: (done: number, total: number) => void;
  onRetry?: (modelId: string, err: ProviderError, attempt: number, delayMs: number) => void;
  /** Run cases in a seeded random order and stop each suite once every verdict is settled (sequential.ts). */
  untilDecided?: boolean;
  /** With untilDecided: at most this many cases per suite. */
  maxCases?: number;
}

export interface EvaluateResult {
  runId: string;
  outcome: RunOutcome;
  summary: EvalSummary;
  storeLocation: string;
  configPath: string;
  /** Per model: failed requests and the first error. */
  failures: ModelFailures[];
  /** Every result of the run (texts only for requests this process made). */
  results: ResultRecord[];
}

export type RunControls = Pick<EvaluateOptions, "concurrency" | "noCache" | "signal" | "onProgress" | "onRetry"> & { keep?: ResultRecord[] };

/** Run a stored plan and record how the run ended (completed, interrupted, or failed). */
export async function runAndRecord(store: StoreHandle, plan: Plan, runId: string, c: RunControls): Promise<RunOutcome> {
  let outcome: RunOutcome;
  try {
    await preflight(plan);
  } catch (e) {
    // Nothing ran: a run created for this call is removed; a resumed one goes back to interrupted.
    if (!(await deleteRunIfEmpty(store.db, runId))) await finishRun(store.db, runId, "interrupted");
    throw e;
  }
  try {
    outcome = await runPlan(runControls(store, plan, runId, c));
  } catch (e) {
    await finishRun(store.db, runId, e instanceof UserError ? "interrupted" : "failed");
    throw e;
  }
  await finishRun(store.db, runId, outcome.status);
  return outcome;
}

/** `--until-decided`: looks of growing size through the unchanged runner (sequential.ts); one finishRun at the end. */
async function evaluateSequentially(
  store: StoreHandle,
  plan: Plan,
  runId: string,
  opts: EvaluateOptions,
): Promise<{ outcome: RunOutcome; summary: EvalSummary }> {
  const { runUntilDecided } = await import("./sequential.js");
  const margin = plan.margin ?? DEFAULT_MARGIN;
  try {
    const r = await runUntilDecided(
      plan,
      margin,
      {
        runLook: (p) => runPlan({ ...runControls(store, p, runId, opts) }),
        summariseAt: async (z) => {
          const toolFacts = await toolFactsOf(store, plan, runId);
          return summarise(plan, runId, await loadResults(store.db, runId, { withTexts: false }), undefined, {
            zBySuite: z,
            ...(toolFacts ? { toolFacts } : {}),
          });
        },
      },
      { ...(opts.maxCases ? { maxCases: opts.maxCases } : {}), ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    await updateRunPlan(store.db, runId, { ...plan, sequential: r.report });
    await finishRun(store.db, runId, r.outcome.status);
    r.summary.status = r.outcome.status;
    r.summary.sequential = r.report;
    return r;
  } catch (e) {
    await finishRun(store.db, runId, e instanceof UserError ? "interrupted" : "failed");
    throw e;
  }
}

function runControls(store: StoreHandle, plan: Plan, runId: string, c: RunControls): RunOptions {
  return {
    store,
    plan,
    runId,
    ...(c.concurrency ? { concurrency: c.concurrency } : {}),
    ...(c.noCache ? { noCache: true } : {}),
    ...(c.signal ? { signal: c.signal } : {}),
    ...(c.onProgress ? { onProgress: c.onProgress } : {}),
    ...(c.onRetry ? { onRetry: c.onRetry } : {}),
    ...(c.keep ? { keep: c.keep } : {}),
  };
}

/** The fidelity facts of a run's answers, read only when the plan has a suite with tools (summarise's `toolFacts`). */
export async function toolFactsOf(store: StoreHandle, plan: Plan, runId: string): Promise<Map<string, unknown[]> | undefined> {
  return plan.suites.some((s) => s.tools?.length) ? loadTurnFacts(store.db, runId) : undefined;
}

/** Find one run by full id or unique prefix. */
export async function resolveRun(store: StoreHandle, id: string): Promise<RunRow> {
  if (id === "latest") {
    const [newest] = await listRuns(store.db, 1);
    if (!newest) throw new UserError(`no runs yet in the store at ${store.location}`, "run `weightbridge eval` first");
    return newest;
  }
  const hits = await findRuns(store.db, id);
  const exact = hits.find((r) => r.id === id);
  if (exact) return exact;
  if (hits.length === 1 && hits[0]) return hits[0];
  if (hits.length === 0)
    throw new UserError(
      `no run "${id}" in the store at ${store.location}`,
      "list runs with `weightbridge runs -c FILE`; each command finds the store from -c or WEIGHTBRIDGE_DATABASE_URL",
    );
  throw new UserError(`run id "${id}" is ambiguous (${hits.map((h) => h.id).join(", ")})`, "type more of the id");
}

/** The store of a config (without loading its suites). */
export async function openStoreFor(config?: string): Promise<{ store: StoreHandle; configPath: string | null }> {
  if (!config && process.env.WEIGHTBRIDGE_DATABASE_URL) return { store: await openStore(process.env.WEIGHTBRIDGE_DATABASE_URL), configPath: null };
  const c = loadConfigOnly(config);
  return { store: await openStore(resolveStoreUrl(dirname(c.configPath), c.config.store)), configPath: c.configPath };
}

/** A run ready to go: its store (open), plan and id, from a resumed run or a fresh plan. */
interface Opened {
  store: StoreHandle;
  plan: Plan;
  runId: string;
  configPath: string;
  resumed: boolean;
}

/** flags → open (resume a stored run, or plan a new one) → run (sequentially, or once) → summary. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  checkFlags(opts);
  const { store, plan, runId, configPath, resumed } = opts.resume ? await openResumed(opts, opts.resume) : await openFresh(opts);
  try {
    opts.onStart?.({ runId, total: planSize(plan), resumed, storeLocation: store.location });
    const done = (outcome: RunOutcome, summary: EvalSummary, rows: ResultRecord[]): EvaluateResult => ({
      runId,
      outcome,
      summary,
      storeLocation: store.location,
      configPath,
      failures: modelFailures(plan, rows),
      results: rows,
    });
    if (opts.untilDecided) {
      const { outcome, summary } = await evaluateSequentially(store, plan, runId, opts);
      return done(outcome, summary, await loadResults(store.db, runId, { withTexts: false }));
    }
    const fresh: ResultRecord[] = [];
    const outcome = await runAndRecord(store, plan, runId, { ...opts, keep: fresh });
    // Nothing finished before this process: the stored rows are exactly the ones it committed, so
    // the summary needs no read-back (2,000 rows took ~25 ms to read). Otherwise read the store.
    const rows = outcome.skipped === 0 ? sortedResults(fresh) : await loadResults(store.db, runId, { withTexts: false });
    return done(outcome, await summaryOf(store, plan, runId, rows, outcome), rows);
  } finally {
    await store.close();
  }
}

function checkFlags(opts: EvaluateOptions): void {
  if (opts.maxCases !== undefined && !opts.untilDecided)
    throw new UserError("--max-cases needs --until-decided", "add --until-decided, or use --suite to run fewer suites");
  if (opts.resume && opts.untilDecided)
    throw new UserError("--until-decided cannot resume a run", "start a new run with --until-decided, or resume without it to finish every case");
  if (opts.resume) {
    const fixed = (["repeat", "suites", "models"] as const).filter((k) => opts[k] !== undefined);
    if (fixed.length)
      throw new UserError(
        `--resume continues run ${opts.resume} with the plan it was started with; --${fixed[0] === "suites" ? "suite" : fixed[0]} cannot change it`,
        "drop the flag to resume, or start a new run without --resume",
      );
  }
}

/** `--resume`: the stored run's own plan, marked running again (a completed or running run is refused). */
async function openResumed(opts: EvaluateOptions, id: string): Promise<Opened> {
  const { store } = await openStoreFor(opts.config);
  const run = await resolveRun(store, id);
  if (run.kind !== "eval") throw new UserError(`run ${run.id} is a ${run.kind} run, not an eval`);
  if (run.status === "running") throw new UserError(`run ${run.id} is still running in another process`, "wait for it, or stop it first");
  if (run.status === "completed") {
    await store.close();
    throw new UserError(
      `run ${run.id} is already complete: nothing to resume`,
      `see it with \`weightbridge runs show ${run.id}\`, or start a new run without --resume`,
    );
  }
  await markRunning(store.db, run.id);
  return { store, plan: run.plan as Plan, runId: run.id, configPath: run.configPath, resumed: true };
}

/** A new run: the project loaded, planned and preflighted (the store closed again on failure), then created. */
async function openFresh(opts: EvaluateOptions): Promise<Opened> {
  const project = await loadProjectAsync(opts.config);
  const store = await openStore(project.storeUrl);
  let plan: Plan;
  try {
    plan = buildPlan(project, {
      ...(opts.suites ? { suites: opts.suites } : {}),
      ...(opts.models ? { models: opts.models } : {}),
      ...(opts.repeat ? { repeat: opts.repeat } : {}),
      prices: await loadPrices(store.db),
    });
    if (opts.untilDecided && !plan.baseline)
      throw new UserError("--until-decided needs a baseline to decide against", "set `baseline: MODEL_ID` in the config (and run at least two models)");
    await preflight(plan);
  } catch (e) {
    await store.close();
    throw e;
  }
  const runId = newRunId();
  const configPath = project.configPath;
  await createRun(store.db, { id: runId, kind: "eval", configPath, plan: { ...plan, record: decisionRecord(configPath, plan) } });
  return { store, plan, runId, configPath, resumed: false };
}

/** The run's summary with its status and, additively, which models `weightbridge simulate` answered (absent when none). */
async function summaryOf(store: StoreHandle, plan: Plan, runId: string, rows: ResultRecord[], outcome: RunOutcome): Promise<EvalSummary> {
  const toolFacts = await toolFactsOf(store, plan, runId);
  const summary = summarise(plan, runId, rows, undefined, toolFacts ? { toolFacts } : {});
  summary.status = outcome.status;
  const simulated = [...new Set([...((plan as Plan & { simulated?: string[] }).simulated ?? []), ...outcome.simulated])];
  if (simulated.length) (summary as EvalSummary & { simulated?: string[] }).simulated = simulated;
  return summary;
}

/** The summary of a stored run (for `runs show` and the report). */
export async function summariseStoredRun(
  store: StoreHandle,
  id: string,
  baseline?: string,
): Promise<{ run: RunRow; summary: EvalSummary; failures: ModelFailures[] }> {
  const run = await resolveRun(store, id);
  const plan = run.plan as Plan;
  if (baseline && !plan.models.some((m) => m.config.id === baseline))
    throw new UserError(`--baseline: model "${baseline}" is not in run ${run.id}`, `models in this run: ${plan.models.map((m) => m.config.id).join(", ")}`);
  const rows = await loadResults(store.db, run.id, { withTexts: false });
  const toolFacts = await toolFactsOf(store, plan, run.id);
  const summary = summarise(plan, run.id, rows, baseline, toolFacts ? { toolFacts } : {});
  summary.status = run.status;
  return { run, summary, failures: modelFailures(plan, rows) };
}
