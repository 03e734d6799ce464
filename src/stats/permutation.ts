import { DEFAULT_SEED } from "./bootstrap.js";
import { seededRng } from "./rng.js";

export interface PermutationOptions {
  permutations?: number;
  seed?: number;
}

/**
 * Paired permutation (sign-flip) test of mean(candidate - baseline) = 0, two-sided.
 * Exact enumeration when there are at most 16 non-zero differences, Monte Carlo otherwise
 * with the (count + 1) / (N + 1) correction so the p-value is never 0.
 */
export function pairedPermutationTest(candidate: readonly number[], baseline: readonly number[], options: PermutationOptions = {}): number {
  const d: number[] = [];
  for (let i = 0; i < candidate.length; i++) {
    const v = (candidate[i] as number) - (baseline[i] as number);
    if (v !== 0) d.push(v);
  }
  const m = d.length;
  if (m === 0) return 1;
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  const eps = 1e-12 * (1 + observed);
  if (m <= 16) {
    let extreme = 0;
    const total = 1 << m;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += mask & (1 << i) ? -(d[i] as number) : (d[i] as number);
      if (Math.abs(s) >= observed - eps) extreme++;
    }
    return extreme / total;
  }
  const n = options.permutations ?? 10000;
  const rng = seededRng(options.seed ?? DEFAULT_SEED);
  let extreme = 0;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += rng() < 0.5 ? -(d[i] as number) : (d[i] as number);
    if (Math.abs(s) >= observed - eps) extreme++;
  }
  return (extreme + 1) / (n + 1);
}
