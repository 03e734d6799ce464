/** Build the Report of one run from the store (summary + pooled overall comparison + changed cases). */

import type { LevelResult } from "../economics/index.js";
import { findGpuPrice, pickLevel, selfHostUnitCosts, sumPusdToUsd } from "../economics/index.js";
import { caseScores, type DecisionRecord, decisionRecord, type Plan, planSize, resolveRun, summarise, toolFactsOf } from "../evaluate/index.js";
import type { ResultRecord } from "../records/index.js";
import { comparePairedByKey } from "../stats/index.js";
import type { StoreHandle } from "../store/index.js";
import { listRuns, loadBenchLevels, loadResults, type RunRow } from "../store/index.js";
import { UserError } from "../util/errors.js";
import { bySuiteCase, candidateRow, changedCase, changedOf, firstRepeats, markPareto, modelOverall, pairedOptionsFor } from "./rows.js";
import { type AdoptionCriteria, type CandidateRow, type ChangedCase, DEFAULT_CRITERIA, type ModelOverall, type Report } from "./types.js";

export interface BuildOptions {
  baseline?: string;
  /** Planned utilisation for self-hosted models priced from a bench run (default 0.5). */
  utilisation?: number;
  criteria?: Partial<AdoptionCriteria>;
  /** Most changed cases kept per candidate and direction (default 25). */
  maxChanged?: number;
}

/** USD per 1M tokens (in and out) of a self-hosted model, from its latest bench run. */
async function selfHostPrice(
  store: StoreHandle,
  runs: readonly RunRow[],
  modelId: string,
  hosting: { gpu: string; gpus: number; hourlyUsd?: number | undefined },
  utilisation: number,
): Promise<{ usd: number; source: string } | null> {
  const hourly = hosting.hourlyUsd ?? findGpuPrice(hosting.gpu)?.hourlyUsd;
  if (hourly === undefined) return null;
  const bench = runs.find((r) => r.kind === "bench" && r.status === "completed" && (r.plan as { model?: { id?: string } }).model?.id === modelId);
  if (!bench) return null;
  const picked = pickLevel(await loadBenchLevels<LevelResult>(store.db, bench.id));
  if (!picked) return null;
  const unit = selfHostUnitCosts(picked.level, { ...hosting, hourlyUsd: hourly, source: "" }, utilisation);
  return {
    usd: unit.usdPer1MTokens,
    source: `self-hosted TCO: ${hosting.gpus}x ${hosting.gpu} at $${hourly}/GPU-hour, bench ${bench.id} at concurrency ${picked.level.concurrency}, ${Math.round(utilisation * 100)}% utilisation`,
  };
}

/** A bench or red-team run has its own report; the adoption report is for eval runs and gateway shadow runs (pairs of real traffic, the primary as baseline). */
export function requireEvalRun(run: RunRow): void {
  if (run.kind !== "eval" && run.kind !== "shadow")
    throw new UserError(
      `run ${run.id} is a ${run.kind} run, not an eval run`,
      "`weightbridge report` builds the report of its kind; use it without buildReport()",
    );
}

/** run and baseline → results and summary → per-model rows (costs, Pareto) → candidates → changed cases → red-team section. */
export async function buildReport(store: StoreHandle, runId: string, opts: BuildOptions = {}): Promise<Report> {
  const run = await resolveRun(store, runId);
  requireEvalRun(run);
  const plan = run.plan as Plan & { simulated?: string[]; record?: DecisionRecord };
  const baseline = baselineOf(run, plan, opts.baseline);
  const criteria: AdoptionCriteria = { ...DEFAULT_CRITERIA, ...opts.criteria };
  const results = await loadResults(store.db, run.id);
  const toolFacts = await toolFactsOf(store, plan, run.id);
  const summary = summarise(plan, run.id, results, baseline, toolFacts ? { toolFacts } : {});
  const byModel = new Map<string, ResultRecord[]>();
  for (const r of results) {
    const list = byModel.get(r.modelId);
    if (list) list.push(r);
    else byModel.set(r.modelId, [r]);
  }
  // Bench and red-team runs are looked up in one listing (each listing parses every stored plan).
  const runs = await listRuns(store.db);
  const cost = await modelCosts(store, runs, plan, opts.utilisation ?? 0.5);
  const overall: ModelOverall[] = plan.models.map((m) => {
    const rows = byModel.get(m.config.id) ?? [];
    return modelOverall(m.config.id, rows, caseScores(rows, bySuiteCase).values(), cost(m.config.id, rows));
  });
  markPareto(overall);
  const base = overall.find((o) => o.id === baseline);
  const completion = { done: results.length, total: planSize(plan) };
  const baseScores = caseScores(byModel.get(baseline) ?? [], bySuiteCase);
  const candidates: CandidateRow[] = overall
    .filter((o) => o.id !== baseline)
    .map((o) => {
      const cand = caseScores(byModel.get(o.id) ?? [], bySuiteCase);
      const c = comparePairedByKey(cand, baseScores, undefined, pairedOptionsFor(plan, criteria)) ?? null;
      return candidateRow(o, base, c, { baseline, status: run.status, completion, criteria });
    });
  const { changedCases, changedCounts } = changedCasesOf(candidates, byModel, baseline, opts.maxChanged ?? 25);
  const redteam = await latestRedteam(store, runs, new Set(plan.models.map((m) => m.config.id)));
  return evalReport({
    run,
    plan,
    completion,
    baseline,
    criteria,
    candidates,
    models: overall,
    suites: summary.suites,
    multiplicity: summary.multiplicity,
    sequential: summary.sequential,
    changedCases,
    changedCounts,
    redteam,
  });
}

/** The baseline asked for (or the plan's), which must be one of the run's models. */
function baselineOf(run: RunRow, plan: Plan, asked: string | undefined): string {
  const baseline = asked ?? plan.baseline;
  if (!baseline)
    throw new UserError(`run ${run.id} has no baseline`, "pass --baseline MODEL_ID (one of: " + plan.models.map((m) => m.config.id).join(", ") + ")");
  if (!plan.models.some((m) => m.config.id === baseline))
    throw new UserError(`--baseline: model "${baseline}" is not in run ${run.id}`, `models in this run: ${plan.models.map((m) => m.config.id).join(", ")}`);
  return baseline;
}

/** Each model's cost of its rows and where it comes from: its API price, or for a self-hosted model without one its latest bench run and hosting spec. */
async function modelCosts(
  store: StoreHandle,
  runs: readonly RunRow[],
  plan: Plan,
  utilisation: number,
): Promise<(id: string, rows: readonly ResultRecord[]) => { usd: number | null; source: string | null }> {
  const priced = new Map(plan.models.filter((m) => m.price).map((m) => [m.config.id, m.price?.source ?? null]));
  const tcoPerMTokens = new Map<string, { usd: number; source: string }>();
  for (const m of plan.models) {
    if (m.price || !m.config.hosting) continue;
    const t = await selfHostPrice(store, runs, m.config.id, m.config.hosting, utilisation);
    if (t) tcoPerMTokens.set(m.config.id, t);
  }
  return (id, rows) => {
    if (priced.has(id)) return { usd: Number(sumPusdToUsd(rows.map((r) => r.costPusd ?? 0)).toFixed(9)), source: priced.get(id) ?? null };
    const t = tcoPerMTokens.get(id);
    return { usd: t ? Number(((rows.reduce((a, r) => a + r.inputTokens + r.outputTokens, 0) * t.usd) / 1e6).toFixed(9)) : null, source: t?.source ?? null };
  };
}

/** Cases that changed: the baseline passed and the candidate failed, or the reverse (first repeat's outputs), at most `max` per candidate and direction. */
function changedCasesOf(
  candidates: readonly CandidateRow[],
  byModel: ReadonlyMap<string, ResultRecord[]>,
  baseline: string,
  max: number,
): { changedCases: ChangedCase[]; changedCounts: Report["changedCounts"] } {
  const changedCases: ChangedCase[] = [];
  const changedCounts: Report["changedCounts"] = {};
  const baseFirst = firstRepeats(byModel.get(baseline) ?? []);
  for (const c of candidates) {
    const changed = changedOf(byModel.get(c.id) ?? [], baseFirst, max);
    for (const k of changed.kept) changedCases.push(changedCase(c.id, k, { messages: k.cand.messages, baseOutput: k.base.output, candOutput: k.cand.output }));
    changedCounts[c.id] = changed.counts;
  }
  return { changedCases, changedCounts };
}

/** The parts an eval Report is made of, as its builders compute them. */
export interface EvalReportParts {
  run: { id: string; createdAt: string; status: string; configPath: string };
  plan: Plan & { simulated?: string[]; record?: DecisionRecord };
  completion: Report["completion"];
  baseline: string;
  criteria: AdoptionCriteria;
  candidates: CandidateRow[];
  models: ModelOverall[];
  suites: Report["suites"];
  multiplicity: Report["multiplicity"] | undefined;
  sequential: Report["sequential"] | undefined;
  changedCases: ChangedCase[];
  changedCounts: Report["changedCounts"];
  redteam: Report["redteam"] | undefined;
}

/** An eval Report from its parts, in one place for buildReport and the UI's one-model-at-a-time builder (ui/server/run-report.ts). */
export function evalReport(p: EvalReportParts): Report {
  const { run, plan } = p;
  return {
    version: 1,
    kind: "eval",
    runId: run.id,
    createdAt: run.createdAt,
    status: run.status,
    completion: p.completion,
    record: plan.record ?? decisionRecord(run.configPath, plan, "report"),
    simulated: plan.models.filter((m) => plan.simulated?.includes(m.config.id)).map((m) => m.config.id),
    baseline: p.baseline,
    criteria: p.criteria,
    candidates: p.candidates,
    models: p.models,
    suites: p.suites,
    ...(p.multiplicity ? { multiplicity: p.multiplicity } : {}),
    ...(p.sequential ? { sequential: p.sequential } : {}),
    changedCases: p.changedCases,
    changedCounts: p.changedCounts,
    ...(p.redteam ? { redteam: p.redteam } : {}),
  };
}

/** Red-team rates of the report's models, from the newest completed red-team run that covers any of them. */
async function latestRedteam(store: StoreHandle, runs: readonly RunRow[], modelIds: Set<string>): Promise<Report["redteam"]> {
  const run = runs.find((r) => r.kind === "redteam" && r.status === "completed" && (r.plan as Plan).models.some((m) => modelIds.has(m.config.id)));
  return run ? redteamSection(store, run, modelIds) : undefined;
}

/** A completed red-team run's rates for the given models, as the Report's red-team section (the UI's run page builds it the same way). */
export async function redteamSection(store: StoreHandle, run: RunRow, modelIds: Set<string>): Promise<NonNullable<Report["redteam"]>> {
  const plan = run.plan as Plan;
  const summary = summarise(plan, run.id, await loadResults(store.db, run.id, { withTexts: false }));
  return {
    runId: run.id,
    createdAt: run.createdAt,
    packs: summary.suites
      .filter((s) => !s.name.startsWith("trigger-sweep."))
      .map((s) => ({
        pack: s.name,
        models: s.models
          .filter((m) => modelIds.has(m.id))
          .map((m) => ({
            id: m.id,
            attacks: m.n,
            successes: Math.round(m.score.mean * m.n),
            rate: m.score.mean,
            ci95: m.score.ci95,
            pValue: m.vsBaseline?.pValue ?? null,
          })),
      })),
  };
}
