/**
 * The eval Report's per-model rows — pooled figures, the Pareto mark, the candidate rows with their
 * verdicts — and the paired-comparison options they rest on, computed in one place for the two
 * builders of the Report: buildReport (all results at once) and the UI's one-model-at-a-time builder
 * (ui/server/run-report.ts), whose Reports must be equal.
 */
import { ms, type Plan, zForAlpha } from "../evaluate/index.js";
import type { Message } from "../providers/index.js";
import type { ResultRecord } from "../records/index.js";
import { estimateMean, type PairedComparison, quantile } from "../stats/index.js";
import { gateVerdict } from "./gate.js";
import { paretoFrontier } from "./pareto.js";
import type { AdoptionCriteria, CandidateRow, ChangedCase, ModelOverall, Report } from "./types.js";
import { decideVerdict } from "./verdict.js";

/** A case across suites: suite and index. */
export const bySuiteCase = (r: ResultRecord) => `${r.suite}\u0000${r.caseIndex}`;

/** Figures are rounded to 6 decimals so that Reports built either way compare equal. */
export const r6 = (x: number) => Number(x.toFixed(6));

/** The paired comparison's options for a run: case groups (named per suite, so suites never share one), the margin, and a sequential run's z. */
export function pairedOptionsFor(plan: Plan, criteria: AdoptionCriteria): { margin: number; groupOf: (key: string) => string | undefined; z?: number } {
  const groups = new Map<string, string>();
  for (const s of plan.suites) for (const c of s.cases) if (c.group !== undefined) groups.set(`${s.name}\u0000${c.index}`, `${s.name}\u0000${c.group}`);
  // A sequential run pools suites that stopped at different looks: use the smallest look α (widest interval).
  const looks = plan.sequential?.suites ?? [];
  return {
    margin: criteria.minQualityRatio,
    groupOf: (key) => groups.get(key),
    ...(looks.length ? { z: zForAlpha(Math.min(...looks.map((x) => x.alpha))) } : {}),
  };
}

/** A model's pooled figures over every suite, from its results and its per-case scores. */
export function modelOverall(
  id: string,
  rows: readonly ResultRecord[],
  scores: Iterable<number>,
  cost: { usd: number | null; source: string | null },
): ModelOverall {
  const values = [...scores];
  const est = estimateMean(values);
  const ok = rows.filter((r) => r.error === null);
  const lat = ok.flatMap((r) => (r.latencyMs === null ? [] : [r.latencyMs]));
  return {
    id,
    cases: values.length,
    score: r6(est.mean),
    scoreCi95: [r6(est.ci95[0]), r6(est.ci95[1])],
    costUsd: cost.usd,
    costSource: cost.source,
    latencyP50Ms: ms(quantile(lat, 0.5)),
    latencyP95Ms: ms(quantile(lat, 0.95)),
    ttftP50Ms: ms(
      quantile(
        ok.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs])),
        0.5,
      ),
    ),
    errorRate: rows.length ? r6((rows.length - ok.length) / rows.length) : 0,
    firstError: rows.find((r) => r.error !== null)?.error ?? null,
    pareto: false,
  };
}

/** Marks the models on the quality/cost Pareto frontier (models without a cost are left off). */
export function markPareto(models: readonly ModelOverall[]): void {
  const points = models.filter((o) => o.costUsd !== null && Number.isFinite(o.score)).map((o) => ({ o, cost: o.costUsd as number, quality: o.score }));
  for (const p of paretoFrontier(points)) p.o.pareto = true;
}

/** A candidate's row: its ratios against the baseline and its verdict (the gate first: errors, an unfinished run). */
export function candidateRow(
  o: ModelOverall,
  base: ModelOverall | undefined,
  c: PairedComparison | null,
  ctx: { baseline: string; status: string; completion: Report["completion"]; criteria: AdoptionCriteria },
): CandidateRow {
  const { baseline, criteria } = ctx;
  const costRatio = o.costUsd !== null && base?.costUsd ? r6(o.costUsd / base.costUsd) : null;
  const qualityRatio = c?.qualityRatio ?? null;
  const qualityRatioCi95 = c?.qualityRatioCi95 ?? null;
  const v =
    gateVerdict(
      {
        id: o.id,
        baseline,
        status: ctx.status,
        completion: ctx.completion,
        errorRate: o.errorRate,
        firstError: o.firstError,
        baselineErrorRate: base?.errorRate ?? 0,
        baselineFirstError: base?.firstError ?? null,
      },
      criteria,
    ) ?? decideVerdict({ id: o.id, baseline, qualityRatio, qualityRatioCi95, costRatio, comparison: c }, criteria);
  return {
    id: o.id,
    qualityRatio: qualityRatio === null ? null : r6(qualityRatio),
    qualityRatioCi95: qualityRatioCi95 ? [r6(qualityRatioCi95[0]), r6(qualityRatioCi95[1])] : null,
    pValue: c ? r6(c.pValue) : null,
    diff: c ? r6(c.diff) : null,
    costRatio,
    latencyP50Ms: o.latencyP50Ms,
    latencyP95Ms: o.latencyP95Ms,
    ttftP50Ms: o.ttftP50Ms,
    errorRate: o.errorRate,
    verdict: v.verdict,
    reason: v.reason,
  };
}

/** Changed cases of one candidate: how many in each direction, and the first `max` of each kept (both rows). */
export interface Changed {
  counts: { regressions: number; improvements: number };
  kept: { direction: "regression" | "improvement"; base: ResultRecord; cand: ResultRecord }[];
}

/** A model's first-repeat rows by case (the rows whose outputs a changed case shows). */
export function firstRepeats(rows: readonly ResultRecord[]): Map<string, ResultRecord> {
  return new Map(rows.filter((r) => r.repeat === 0).map((r) => [bySuiteCase(r), r]));
}

/** Cases whose first repeat passed for one model and failed for the other (at most `max` per direction kept). */
export function changedOf(rows: readonly ResultRecord[], baseFirst: ReadonlyMap<string, ResultRecord>, max: number): Changed {
  const out: Changed = { counts: { regressions: 0, improvements: 0 }, kept: [] };
  for (const [key, cand] of firstRepeats(rows)) {
    const base = baseFirst.get(key);
    if (!base || base.passed === cand.passed) continue;
    const direction = base.passed ? "regression" : "improvement";
    const n = direction === "regression" ? ++out.counts.regressions : ++out.counts.improvements;
    if (n <= max) out.kept.push({ direction, base, cand });
  }
  return out;
}

/** A kept changed case as the Report shows it, with the texts its builder read (the last user message, each output or its error). */
export function changedCase(
  candidate: string,
  k: Changed["kept"][number],
  texts: { messages: readonly Message[]; baseOutput: string | null; candOutput: string | null },
): ChangedCase {
  const { direction, base, cand } = k;
  return {
    candidate,
    suite: cand.suite,
    caseId: cand.caseId,
    direction,
    input: [...texts.messages].reverse().find((m) => m.role === "user")?.content ?? "",
    baselineOutput: base.error ? `[error] ${base.error}` : texts.baseOutput,
    candidateOutput: cand.error ? `[error] ${cand.error}` : texts.candOutput,
    baselineScore: r6(base.score),
    candidateScore: r6(cand.score),
  };
}
