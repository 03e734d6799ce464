import { type BootstrapOptions, DEFAULT_RESAMPLES, DEFAULT_SEED } from "./bootstrap.js";
import { quantileSorted } from "./quantile.js";
import { seededRng } from "./rng.js";

export interface PairedBootstrapResult {
  /** CI of mean(candidate) - mean(baseline). */
  diffCi95: [number, number];
  /** CI of mean(candidate) / mean(baseline); null when the baseline mean can be 0. */
  ratioCi95: [number, number] | null;
  resamples: number;
}

/**
 * Paired percentile bootstrap: resample *cases* (pairs) with replacement, so the correlation between
 * the two models on the same case is kept. Seeded; ≥ 2000 resamples.
 */
export function pairedBootstrap(candidate: readonly number[], baseline: readonly number[], options: BootstrapOptions = {}): PairedBootstrapResult {
  const n = candidate.length;
  if (n !== baseline.length) throw new Error("pairedBootstrap: samples must be paired (same length)");
  const b = Math.max(2000, options.resamples ?? DEFAULT_RESAMPLES);
  if (n === 0) return { diffCi95: [Number.NaN, Number.NaN], ratioCi95: null, resamples: b };
  const rng = seededRng(options.seed ?? DEFAULT_SEED);
  const alpha = 1 - (options.level ?? 0.95);
  const diffs = new Float64Array(b);
  const ratios = new Float64Array(b);
  let ratioDefined = true;
  for (let r = 0; r < b; r++) {
    let sc = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rng() * n);
      sc += candidate[k] as number;
      sb += baseline[k] as number;
    }
    diffs[r] = (sc - sb) / n;
    if (sb === 0) ratioDefined = false;
    else ratios[r] = sc / sb;
  }
  diffs.sort();
  const diffCi95: [number, number] = [quantileSorted(diffs, alpha / 2), quantileSorted(diffs, 1 - alpha / 2)];
  let ratioCi95: [number, number] | null = null;
  if (ratioDefined) {
    ratios.sort();
    ratioCi95 = [quantileSorted(ratios, alpha / 2), quantileSorted(ratios, 1 - alpha / 2)];
  }
  return { diffCi95, ratioCi95, resamples: b };
}
