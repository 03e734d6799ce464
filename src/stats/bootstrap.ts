import { quantileSorted } from "./quantile.js";
import { type Rng, seededRng } from "./rng.js";

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

export const DEFAULT_RESAMPLES = 4000;
export const DEFAULT_SEED = 20260601;

/** Percentile bootstrap CI of the mean of one sample. */
export function bootstrapMeanCi(values: readonly number[], options: BootstrapOptions = {}): [number, number] {
  const n = values.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const b = options.resamples ?? DEFAULT_RESAMPLES;
  const rng: Rng = seededRng(options.seed ?? DEFAULT_SEED);
  const alpha = 1 - (options.level ?? 0.95);
  const means = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng() * n)] as number;
    means[r] = s / n;
  }
  means.sort();
  return [quantileSorted(means, alpha / 2), quantileSorted(means, 1 - alpha / 2)];
}
