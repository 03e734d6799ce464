import { type BootstrapOptions, DEFAULT_RESAMPLES, DEFAULT_SEED } from "./bootstrap.js";
import { quantileSorted } from "./quantile.js";

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
  const alpha = 1 - (options.level ?? 0.95);
  const c = Float64Array.from(candidate);
  const bl = Float64Array.from(baseline);
  const diffs = new Float64Array(b);
  const ratios = new Float64Array(b);
  let ratioDefined = true;
  // The hot loop (b × n draws, 4M for 1,000 cases): seededRng's mulberry32 step written inline, so
  // the draws, and every interval, are exactly those of seededRng(seed).
  let state = (options.seed ?? DEFAULT_SEED) >>> 0;
  for (let r = 0; r < b; r++) {
    let sc = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const k = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
      sc += c[k] as number;
      sb += bl[k] as number;
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
