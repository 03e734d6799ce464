/**
 * From stored results to the eval summary (the `eval --json` contract). Pure: results in, numbers out.
 * Statistics are over *cases*: with --repeat K a case's score is the mean of its K repeats, and the
 * comparison with the baseline pairs the two models on the same cases.
 */
import type { DatasetProvenance } from "../config/index.js";
import { sumPusdToUsd } from "../economics/index.js";
import type { ResultRecord } from "../records/index.js";
import {
  comparePairedByKey,
  type DecisionStatus,
  decisionStatus,
  describeComparison,
  estimateMean,
  formatPValue,
  holmAdjust,
  type MeanEstimate,
  moreCasesPhrase,
  type PairedComparison,
  quantile,
} from "../stats/index.js";
import { resultKey } from "../store/index.js";
import { labelMetrics, normaliseLabel } from "./graders/label.js";
import type { Plan, PlannedSuite } from "./plan.js";
import { type SequentialReport, zForAlpha } from "./sequential.js";
import { type AnswerFacts, summariseFidelity, type ToolFidelity } from "./tool-fidelity.js";

export interface ModelSummary {
  id: string;
  /** Cases scored (the unit of the statistics). */
  n: number;
  /** Requests recorded (cases × repeats). */
  requests: number;
  errors: number;
  score: { mean: number; ci95: [number, number]; method: MeanEstimate["method"] };
  passRate: number;
  cost: { usd: number | null; inputTokens: number; outputTokens: number; priceSource: string | null };
  latency: { p50Ms: number | null; p95Ms: number | null; ttftP50Ms: number | null };
  metrics?: { accuracy?: number; macroF1?: number; ndcg?: number; recall?: number; mrr?: number };
  /** Suites that offer tools: tool-call fidelity over every answer of the model (docs/eval-json.md). */
  toolCalls?: ToolFidelity;
  vsBaseline?: PairedComparison & {
    baseline: string;
    costRatio: number | null;
    sentence: string;
    /** Holm-adjusted equality p-value over every candidate × suite comparison in the run. */
    pValueHolm: number;
    /** Where the ratio's interval stands against the margin; for open pass/fail comparisons, the cases that would decide. */
    decision: DecisionStatus;
  };
}

/** How the p-values were adjusted for the several comparisons in one run (docs/statistics.md). */
export interface Multiplicity {
  method: "holm";
  /** Candidate × suite comparisons in the family. */
  comparisons: number;
  note: string;
}

export interface SuiteSummary {
  name: string;
  cases: number;
  /** Where rows read from files and Hub datasets came from (as the plan recorded them). */
  datasets?: DatasetProvenance[];
  models: ModelSummary[];
}

export interface EvalSummary {
  runId: string;
  status?: string;
  baseline: string | null;
  repeat: number;
  suites: SuiteSummary[];
  /** Present when there is a baseline: the non-inferiority margin and the multiplicity adjustment. */
  multiplicity?: Multiplicity;
  /** `eval --until-decided`: the design, where each suite stopped and why (its intervals are at that look's level). */
  sequential?: SequentialReport;
}

/** The non-inferiority margin when the config sets none (report's default minQualityRatio). */
export const DEFAULT_MARGIN = 0.9;

export interface SummariseOptions {
  /** Non-inferiority margin on the quality ratio (report.criteria.minQualityRatio). */
  margin?: number;
  /** Per suite: normal quantile of the comparison intervals (sequential looks spend α; default 95%). */
  zBySuite?: ReadonlyMap<string, number>;
  /** Fidelity facts of every answer, by result key (store's loadTurnFacts); without them no `toolCalls` is reported. */
  toolFacts?: ReadonlyMap<string, readonly unknown[]>;
}

function round(x: number, digits = 6): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}
function roundPair(p: [number, number]): [number, number] {
  return [round(p[0]), round(p[1])];
}
/** Milliseconds to one decimal; null when there is nothing to report. */
export function ms(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

/** Per-case mean score over repeats. The key says what a case is (its index in a suite, or suite and index). */
export function caseScores<K>(rows: readonly ResultRecord[], keyOf: (r: ResultRecord) => K): Map<K, number> {
  const acc = new Map<K, { s: number; k: number }>();
  for (const r of rows) {
    const key = keyOf(r);
    const a = acc.get(key) ?? { s: 0, k: 0 };
    a.s += r.score;
    a.k += 1;
    acc.set(key, a);
  }
  return new Map([...acc].map(([i, a]) => [i, a.s / a.k]));
}
const byIndex = (r: ResultRecord) => r.caseIndex;

function extraMetrics(rows: ResultRecord[], suite: PlannedSuite): ModelSummary["metrics"] | undefined {
  const labels: { gold: string; predicted: string }[] = [];
  const rank = { ndcg: 0, recall: 0, mrr: 0, n: 0 };
  for (const r of rows) {
    const expects = suite.cases[r.caseIndex]?.expects ?? [];
    if (r.error !== null) {
      // An errored request has no grades, but it still counts against label and ranking metrics.
      for (const e of expects) {
        if (e.type === "label") labels.push({ gold: normaliseLabel(e.value), predicted: "(error)" });
        if (e.type === "ranking") rank.n++;
      }
      continue;
    }
    for (const g of r.grades) {
      if (g.type === "label" && g.detail) labels.push({ gold: String(g.detail.gold), predicted: String(g.detail.predicted) });
      if (g.type === "ranking" && g.detail) {
        rank.ndcg += Number(g.detail.ndcg);
        rank.recall += Number(g.detail.recall);
        rank.mrr += Number(g.detail.mrr);
        rank.n++;
      }
    }
  }
  const out: NonNullable<ModelSummary["metrics"]> = {};
  if (labels.length) {
    const m = labelMetrics(labels);
    out.accuracy = round(m.accuracy);
    out.macroF1 = round(m.macroF1);
  }
  if (rank.n) {
    out.ndcg = round(rank.ndcg / rank.n);
    out.recall = round(rank.recall / rank.n);
    out.mrr = round(rank.mrr / rank.n);
  }
  return Object.keys(out).length ? out : undefined;
}

export function summarise(plan: Plan, runId: string, results: ResultRecord[], baselineOverride?: string, options: SummariseOptions = {}): EvalSummary {
  const baseline = baselineOverride ?? plan.baseline ?? null;
  const margin = options.margin ?? plan.margin ?? DEFAULT_MARGIN;
  const zBySuite = options.zBySuite ?? (plan.sequential ? sequentialZ(plan.sequential) : undefined);
  const suites: SuiteSummary[] = plan.suites.map((suite) => {
    const inSuite = results.filter((r) => r.suite === suite.name);
    const byModel = new Map<string, ResultRecord[]>();
    for (const r of inSuite) {
      const list = byModel.get(r.modelId) ?? [];
      list.push(r);
      byModel.set(r.modelId, list);
    }
    const costOf = (rows: ResultRecord[], priced: boolean) => (priced ? sumPusdToUsd(rows.map((r) => r.costPusd ?? 0)) : null);
    const baseRows = baseline ? (byModel.get(baseline) ?? []) : [];
    const baseScores = caseScores(baseRows, byIndex);
    const basePriced = plan.models.find((m) => m.config.id === baseline)?.price != null;
    const baseCost = costOf(baseRows, basePriced);

    const models: ModelSummary[] = plan.models.map((pm) => {
      const id = pm.config.id;
      const rows = byModel.get(id) ?? [];
      const scores = caseScores(rows, byIndex);
      const est = estimateMean(
        [...scores.values()],
        [...scores.keys()].map((i) => suite.cases[i]?.group),
      );
      const ok = rows.filter((r) => r.error === null);
      const lat = ok.map((r) => r.latencyMs).filter((x): x is number => x !== null);
      const ttft = ok.map((r) => r.ttftMs).filter((x): x is number => x !== null);
      const usd = costOf(rows, pm.price !== null);
      const s: ModelSummary = {
        id,
        n: scores.size,
        requests: rows.length,
        errors: rows.length - ok.length,
        score: { mean: round(est.mean), ci95: roundPair(est.ci95), method: est.method },
        passRate: round(rows.length ? rows.filter((r) => r.passed).length / rows.length : Number.NaN),
        cost: {
          usd: usd === null ? null : round(usd, 9),
          inputTokens: rows.reduce((a, r) => a + r.inputTokens, 0),
          outputTokens: rows.reduce((a, r) => a + r.outputTokens, 0),
          priceSource: pm.price?.source ?? null,
        },
        latency: { p50Ms: ms(quantile(lat, 0.5)), p95Ms: ms(quantile(lat, 0.95)), ttftP50Ms: ms(quantile(ttft, 0.5)) },
      };
      const metrics = extraMetrics(rows, suite);
      if (metrics) s.metrics = metrics;
      const facts = options.toolFacts;
      if (suite.tools?.length && facts)
        s.toolCalls = summariseFidelity(rows.flatMap((r) => (facts.get(resultKey(r.suite, r.caseIndex, r.modelId, r.repeat)) ?? []) as AnswerFacts[]));
      if (baseline && id !== baseline && baseScores.size > 0) {
        const groupOf = (i: number) => suite.cases[i]?.group;
        const z = zBySuite?.get(suite.name);
        const c = comparePairedByKey(scores, baseScores, (a, b) => a - b, { groupOf, margin, ...(z !== undefined ? { z } : {}) });
        if (c) {
          const decision = decisionStatus(c, margin);
          s.vsBaseline = {
            ...roundComparison(c),
            baseline,
            costRatio: usd !== null && baseCost !== null && baseCost > 0 ? round(usd / baseCost) : null,
            sentence: sentence(id, baseline, c, decision),
            pValueHolm: Number.NaN, // set below, once every comparison of the run is known
            decision,
          };
        }
      }
      return s;
    });
    return { name: suite.name, cases: suite.cases.length, ...(suite.datasets ? { datasets: suite.datasets } : {}), models };
  });
  const multiplicity = baseline ? adjustForMultiplicity(suites) : undefined;
  return {
    runId,
    baseline,
    repeat: plan.repeat,
    suites,
    ...(multiplicity ? { multiplicity } : {}),
    ...(plan.sequential ? { sequential: plan.sequential } : {}),
  };
}

/** A stored sequential run: each suite's intervals at the α of the look where it stopped. */
function sequentialZ(s: SequentialReport): Map<string, number> {
  return new Map(s.suites.map((x) => [x.name, zForAlpha(x.alpha)]));
}

/** The comparison, then where it stands against the margin (non-inferiority p, or the cases that would decide). */
function sentence(id: string, baseline: string, c: PairedComparison, d: DecisionStatus): string {
  const m = `${Math.round(d.margin * 100)}%`;
  const p = c.nonInferiority?.pValue;
  const ni = p == null ? "" : ` (non-inferiority at ${m}: ${formatPValue(p)})`;
  const more = moreCasesPhrase(d);
  const stand =
    d.settled === "above-margin"
      ? `; above the ${m} margin${ni}`
      : d.settled === "below-margin"
        ? `; below the ${m} margin${ni}`
        : `; undecided at the ${m} margin${ni}${more ? `: ${more}` : ""}`;
  return `${describeComparison(id, baseline, c)}${c.qualityRatio === null ? "" : stand}`;
}

function roundComparison(c: PairedComparison): PairedComparison {
  const ni = c.nonInferiority;
  return {
    ...c,
    diff: round(c.diff),
    ci95: roundPair(c.ci95),
    pValue: round(c.pValue, 8),
    qualityRatio: c.qualityRatio === null ? null : round(c.qualityRatio),
    qualityRatioCi95: c.qualityRatioCi95 ? roundPair(c.qualityRatioCi95) : null,
    ...(ni ? { nonInferiority: { margin: ni.margin, pValue: ni.pValue === null ? null : round(ni.pValue, 8) } } : {}),
  };
}

/** Holm over every candidate × suite comparison: equality p-values and non-inferiority p-values. */
export function adjustForMultiplicity(suites: SuiteSummary[]): Multiplicity {
  const vs = suites.flatMap((s) => s.models.flatMap((m) => (m.vsBaseline ? [m.vsBaseline] : [])));
  const eq = holmAdjust(vs.map((v) => v.pValue));
  const withNi = vs.filter((v) => v.nonInferiority?.pValue != null);
  const ni = holmAdjust(withNi.map((v) => v.nonInferiority?.pValue as number));
  vs.forEach((v, i) => {
    v.pValueHolm = round(eq[i] as number, 8);
  });
  withNi.forEach((v, i) => {
    (v.nonInferiority as { pValueHolm?: number }).pValueHolm = round(ni[i] as number, 8);
  });
  return {
    method: "holm",
    comparisons: vs.length,
    note:
      vs.length > 1
        ? `p-values adjusted (Holm) over ${vs.length} candidate × suite comparisons; each verdict's 95% interval is not adjusted`
        : "one comparison: no adjustment needed",
  };
}
