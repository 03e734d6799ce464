import { bootstrapMeanCi } from "./bootstrap.js";
import { mcnemarExact } from "./mcnemar.js";
import { pairedBootstrap } from "./paired-bootstrap.js";
import { pairedPermutationTest } from "./permutation.js";
import { isBinary, mean } from "./quantile.js";
import { wilsonInterval } from "./wilson.js";

export interface MeanEstimate {
  mean: number;
  ci95: [number, number];
  method: "wilson" | "bootstrap";
}

/** Mean score with a 95% CI: Wilson when every score is 0 or 1, percentile bootstrap otherwise. */
export function estimateMean(scores: readonly number[]): MeanEstimate {
  if (scores.length === 0) return { mean: Number.NaN, ci95: [Number.NaN, Number.NaN], method: "wilson" };
  if (isBinary(scores)) {
    const k = scores.reduce((a, b) => a + b, 0);
    return { mean: k / scores.length, ci95: wilsonInterval(k, scores.length), method: "wilson" };
  }
  return { mean: mean(scores), ci95: bootstrapMeanCi(scores), method: "bootstrap" };
}

export interface PairedComparison {
  n: number;
  diff: number;
  ci95: [number, number];
  pValue: number;
  test: "mcnemar-exact" | "paired-permutation";
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
}

/**
 * Candidate vs baseline over the cases both have scores for, keyed by case; undefined when they
 * share none. Cases are paired in the candidate's key order, or in `order` when given.
 */
export function comparePairedByKey<K>(
  candidate: ReadonlyMap<K, number>,
  baseline: ReadonlyMap<K, number>,
  order?: (a: K, b: K) => number,
): PairedComparison | undefined {
  const keys = [...candidate.keys()].filter((k) => baseline.has(k));
  if (order) keys.sort(order);
  if (keys.length === 0) return undefined;
  return comparePaired(
    keys.map((k) => candidate.get(k) as number),
    keys.map((k) => baseline.get(k) as number),
  );
}

/** Candidate vs baseline on the same cases (index i of both arrays is the same case). */
export function comparePaired(candidate: readonly number[], baseline: readonly number[]): PairedComparison {
  if (candidate.length !== baseline.length) throw new Error("comparePaired: samples must be paired");
  const n = candidate.length;
  const mc = mean(candidate);
  const mb = mean(baseline);
  const boot = pairedBootstrap(candidate, baseline);
  const binary = isBinary(candidate) && isBinary(baseline);
  const pValue = binary ? mcnemarExact(candidate, baseline) : pairedPermutationTest(candidate, baseline);
  return {
    n,
    diff: mc - mb,
    ci95: boot.diffCi95,
    pValue,
    test: binary ? "mcnemar-exact" : "paired-permutation",
    qualityRatio: mb > 0 ? mc / mb : null,
    qualityRatioCi95: mb > 0 ? boot.ratioCi95 : null,
  };
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function formatPValue(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/** "beta scores 89% of alpha (95% CI 85–93%), p < 0.001" */
export function describeComparison(candidateId: string, baselineId: string, c: PairedComparison): string {
  if (c.qualityRatio === null) {
    const d = `${c.diff >= 0 ? "+" : ""}${(c.diff * 100).toFixed(1)} points`;
    return `${candidateId} differs from ${baselineId} by ${d} (baseline scored 0, no ratio), ${formatPValue(c.pValue)}`;
  }
  const ci = c.qualityRatioCi95 ? ` (95% CI ${Math.round(c.qualityRatioCi95[0] * 100)}–${pct(c.qualityRatioCi95[1])})` : "";
  return `${candidateId} scores ${pct(c.qualityRatio)} of ${baselineId}${ci}, ${formatPValue(c.pValue)}`;
}
