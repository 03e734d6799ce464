/**
 * The public face of the statistics: one model's mean, and candidate vs baseline on the same cases.
 * Picks the method from the data: pass/fail scores get closed-form score intervals (Newcombe
 * method 10, MOVER ratio, exact McNemar), anything else a BCa paired bootstrap and a sign-flip
 * permutation test; cases tagged with a group are resampled and permuted by group.
 */
import { bcaCi, bcaFit, bcaLowerPValue, diffOfMeans, meanOfC, ratioOfMeans, resampleSums, type Unit } from "./bca.js";
import { mcnemarExactFromCounts } from "./mcnemar.js";
import { moverRatioCi, newcombeDiffCi, nonInferiorityPValue, type PairedTable, pairedTable } from "./paired-binary.js";
import { pairedPermutationTest } from "./permutation.js";
import { isBinary, mean } from "./quantile.js";
import { wilsonInterval, Z95 } from "./wilson.js";

export interface MeanEstimate {
  mean: number;
  ci95: [number, number];
  method: "wilson" | "bca" | "cluster-bca";
}

/** Units for resampling: one per case, or one per group when groups are given (same order as scores). */
export function toUnits(cand: readonly number[], base: readonly number[] | null, groups?: readonly (string | undefined)[]): Unit[] {
  const units: Unit[] = [];
  const byGroup = new Map<string, Unit>();
  for (let i = 0; i < cand.length; i++) {
    const g = groups?.[i];
    const c = cand[i] as number;
    const b = base ? (base[i] as number) : 0;
    if (g === undefined) {
      units.push({ c, b, w: 1 });
      continue;
    }
    const u = byGroup.get(g);
    if (u) {
      u.c += c;
      u.b += b;
      u.w += 1;
    } else {
      const nu = { c, b, w: 1 };
      byGroup.set(g, nu);
      units.push(nu);
    }
  }
  return units;
}

const hasGroups = (groups?: readonly (string | undefined)[]) => groups?.some((g) => g !== undefined) ?? false;

/** Mean score with a 95% CI: Wilson when every score is 0 or 1 (and cases are independent), BCa otherwise. */
export function estimateMean(scores: readonly number[], groups?: readonly (string | undefined)[]): MeanEstimate {
  if (scores.length === 0) return { mean: Number.NaN, ci95: [Number.NaN, Number.NaN], method: "wilson" };
  const clustered = hasGroups(groups);
  if (isBinary(scores) && !clustered) {
    const k = scores.reduce((a, b) => a + b, 0);
    return { mean: k / scores.length, ci95: wilsonInterval(k, scores.length), method: "wilson" };
  }
  const fit = bcaFit(toUnits(scores, null, groups), meanOfC);
  const ci = fit ? bcaCi(fit) : ([Number.NaN, Number.NaN] as [number, number]);
  return { mean: mean(scores), ci95: ci, method: clustered ? "cluster-bca" : "bca" };
}

export type PairedMethod = "newcombe-mover" | "bca" | "cluster-bca";

export interface PairedComparison {
  n: number;
  diff: number;
  ci95: [number, number];
  /** Two-sided p-value of the equality test (no difference). */
  pValue: number;
  test: "mcnemar-exact" | "paired-permutation" | "cluster-permutation";
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
  /** How the intervals were computed (docs/statistics.md). */
  method: PairedMethod;
  /** Every paired difference is the same (e.g. no case differs): the data cannot show spread. */
  degenerate: boolean;
  /** Pass/fail only: the paired 2×2 table (cases both passed, only the candidate, only the baseline, neither). */
  table?: PairedTable;
  /** Groups resampled as units (when cases carry a group). */
  clusters?: number;
  /** One-sided test of H0: ratio ≤ margin (the adoption rule), when a margin was given. */
  nonInferiority?: { margin: number; pValue: number | null; pValueHolm?: number };
}

export interface CompareOptions {
  /** Group of each case (same order as the scores); cases without one are their own unit. */
  groups?: readonly (string | undefined)[];
  /** Non-inferiority margin on the quality ratio (the adoption criterion's minimum). */
  margin?: number;
  /** Normal quantile of the intervals' level (default 1.96: 95%); sequential looks pass a wider one. */
  z?: number;
  /** Bootstrap resamples and sign-flip permutations (defaults 4,000 and 10,000); simulations lower them. */
  resamples?: number;
  permutations?: number;
}

/**
 * Candidate vs baseline over the cases both have scores for, keyed by case; undefined when they
 * share none. Cases are paired in the candidate's key order, or in `order` when given.
 */
export function comparePairedByKey<K>(
  candidate: ReadonlyMap<K, number>,
  baseline: ReadonlyMap<K, number>,
  order?: (a: K, b: K) => number,
  options: { groupOf?: (k: K) => string | undefined; margin?: number; z?: number } = {},
): PairedComparison | undefined {
  const keys = [...candidate.keys()].filter((k) => baseline.has(k));
  if (order) keys.sort(order);
  if (keys.length === 0) return undefined;
  const groupOf = options.groupOf;
  return comparePaired(
    keys.map((k) => candidate.get(k) as number),
    keys.map((k) => baseline.get(k) as number),
    {
      ...(groupOf ? { groups: keys.map((k) => groupOf(k)) } : {}),
      ...(options.margin !== undefined ? { margin: options.margin } : {}),
      ...(options.z !== undefined ? { z: options.z } : {}),
    },
  );
}

function allEqualDiffs(candidate: readonly number[], baseline: readonly number[]): boolean {
  const d0 = (candidate[0] as number) - (baseline[0] as number);
  return candidate.every((c, i) => c - (baseline[i] as number) === d0);
}

function compareBinary(t: PairedTable, margin: number | undefined, z = Z95): Omit<PairedComparison, "n" | "diff" | "degenerate"> {
  const ratio = moverRatioCi(t, z);
  const est = t.both + t.baseOnly > 0 ? (t.both + t.candOnly) / (t.both + t.baseOnly) : null;
  return {
    ci95: newcombeDiffCi(t, z),
    pValue: mcnemarExactFromCounts(t.candOnly, t.baseOnly),
    test: "mcnemar-exact",
    qualityRatio: est,
    qualityRatioCi95: ratio,
    method: "newcombe-mover",
    table: { ...t },
    ...(margin !== undefined ? { nonInferiority: { margin, pValue: nonInferiorityPValue(t, margin) } } : {}),
  };
}

function compareResampled(units: Unit[], clustered: boolean, o: CompareOptions): Omit<PairedComparison, "n" | "diff" | "degenerate"> {
  const margin = o.margin;
  const sums = resampleSums(units, o.resamples);
  const dFit = bcaFit(units, diffOfMeans, { sums });
  const rFit = bcaFit(units, ratioOfMeans, { sums });
  const pValue = pairedPermutationTest(
    units.map((u) => u.c),
    units.map((u) => u.b),
    o.permutations ? { permutations: o.permutations } : {},
  );
  return {
    ci95: dFit ? bcaCi(dFit, o.z) : [Number.NaN, Number.NaN],
    pValue,
    test: clustered ? "cluster-permutation" : "paired-permutation",
    qualityRatio: rFit ? rFit.est : null,
    qualityRatioCi95: rFit ? bcaCi(rFit, o.z) : null,
    method: clustered ? "cluster-bca" : "bca",
    ...(clustered ? { clusters: units.length } : {}),
    ...(margin !== undefined ? { nonInferiority: { margin, pValue: rFit ? bcaLowerPValue(rFit, margin) : null } } : {}),
  };
}

/** Candidate vs baseline on the same cases (index i of both arrays is the same case). */
export function comparePaired(candidate: readonly number[], baseline: readonly number[], options: CompareOptions = {}): PairedComparison {
  if (candidate.length !== baseline.length) throw new Error("comparePaired: samples must be paired");
  if (options.groups && options.groups.length !== candidate.length) throw new Error("comparePaired: one group per case");
  const n = candidate.length;
  const clustered = hasGroups(options.groups);
  const binary = isBinary(candidate) && isBinary(baseline);
  const rest =
    binary && !clustered
      ? compareBinary(pairedTable(candidate, baseline), options.margin, options.z)
      : compareResampled(toUnits(candidate, baseline, options.groups), clustered, options);
  return { n, diff: mean(candidate) - mean(baseline), degenerate: n > 0 && allEqualDiffs(candidate, baseline), ...rest };
}

export { describeComparison, formatPValue } from "./describe.js";
