/**
 * Bias-corrected and accelerated (BCa) bootstrap (Efron 1987; DiCiccio & Efron 1996) over *units*:
 * a unit is a case, or a cluster of cases (a `group`) when cases are not independent, and is
 * resampled whole. Each unit carries sums (candidate score, baseline score, case count), so one
 * routine gives the paired difference, the ratio of means and one model's mean, clustered or not.
 * Acceleration from the leave-one-unit-out jackknife. Seeded (mulberry32, as rng.ts).
 */
import { DEFAULT_RESAMPLES, DEFAULT_SEED } from "./bootstrap.js";
import { normCdf, normQuantile } from "./normal.js";
import { quantileSorted } from "./quantile.js";
import { Z95 } from "./wilson.js";

export interface Unit {
  /** Sum of candidate (or the one model's) case scores in the unit. */
  c: number;
  /** Sum of baseline case scores in the unit (0 for a single model). */
  b: number;
  /** Number of cases in the unit. */
  w: number;
}

export type UnitStatistic = (c: number, b: number, w: number) => number;
export const diffOfMeans: UnitStatistic = (c, b, w) => (c - b) / w;
export const ratioOfMeans: UnitStatistic = (c, b) => (b > 0 ? c / b : Number.NaN);
export const meanOfC: UnitStatistic = (c, _b, w) => c / w;

export interface BcaOptions {
  resamples?: number;
  seed?: number;
  z?: number;
}

function jackknifeAcceleration(units: readonly Unit[], stat: UnitStatistic, tc: number, tb: number, tw: number): number {
  const m = units.length;
  const theta = new Float64Array(m);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    const u = units[i] as Unit;
    theta[i] = stat(tc - u.c, tb - u.b, tw - u.w);
    sum += theta[i] as number;
  }
  const bar = sum / m;
  let num = 0;
  let den = 0;
  for (let i = 0; i < m; i++) {
    const d = bar - (theta[i] as number);
    num += d * d * d;
    den += d * d;
  }
  return den > 0 && Number.isFinite(num) ? num / (6 * den ** 1.5) : 0;
}

/** Unit sums of each resample (c, b, w interleaved): drawn once, shared by every statistic. */
export function resampleSums(units: readonly Unit[], resamples = DEFAULT_RESAMPLES, seed = DEFAULT_SEED): Float64Array {
  const m = units.length;
  const uc = Float64Array.from(units, (u) => u.c);
  const ub = Float64Array.from(units, (u) => u.b);
  const uw = Float64Array.from(units, (u) => u.w);
  const out = new Float64Array(3 * resamples);
  let state = seed >>> 0;
  for (let r = 0; r < resamples; r++) {
    let sc = 0;
    let sb = 0;
    let sw = 0;
    for (let i = 0; i < m; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const k = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * m);
      sc += uc[k] as number;
      sb += ub[k] as number;
      sw += uw[k] as number;
    }
    out[3 * r] = sc;
    out[3 * r + 1] = sb;
    out[3 * r + 2] = sw;
  }
  return out;
}

function statDraws(sums: Float64Array, stat: UnitStatistic): Float64Array {
  const out: number[] = [];
  for (let r = 0; r < sums.length; r += 3) {
    const v = stat(sums[r] as number, sums[r + 1] as number, sums[r + 2] as number);
    if (!Number.isNaN(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

/**
 * Small-sample expansion (Hesterberg 2015, "expanded percentile"): bootstrap intervals are too
 * narrow by about sqrt((m−1)/m) and z instead of t; widen by sqrt(m/(m−1))·t(m−1)/z at 95%.
 * Applied as one factor on z so the p-values obtained by inversion stay consistent with the CI.
 */
export function expansion(m: number): number {
  if (m < 3) return 1;
  const nu = m - 1;
  const z = Z95;
  const t =
    z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * nu ** 3);
  return (Math.sqrt(m / nu) * t) / z;
}

export interface BcaFit {
  est: number;
  /** Small-sample widening factor on z (see expansion). */
  widen: number;
  /** Sorted resampled statistics. */
  draws: Float64Array;
  /** Bias correction z0 and acceleration a. */
  z0: number;
  a: number;
  /** True when every resample gives the same value (e.g. all paired differences equal). */
  degenerate: boolean;
}

/** Estimate, resamples, bias correction and acceleration; null when the statistic is undefined. */
export function bcaFit(units: readonly Unit[], stat: UnitStatistic, options: BcaOptions & { sums?: Float64Array } = {}): BcaFit | null {
  let tc = 0;
  let tb = 0;
  let tw = 0;
  for (const u of units) {
    tc += u.c;
    tb += u.b;
    tw += u.w;
  }
  const est = stat(tc, tb, tw);
  if (units.length === 0 || Number.isNaN(est)) return null;
  const sums = options.sums ?? resampleSums(units, Math.max(1000, options.resamples ?? DEFAULT_RESAMPLES), options.seed ?? DEFAULT_SEED);
  const draws = statDraws(sums, stat);
  const nd = draws.length;
  const widen = expansion(units.length);
  if (nd === 0 || (draws[0] as number) === (draws[nd - 1] as number)) return { est, widen, draws, z0: 0, a: 0, degenerate: true };
  let below = 0;
  let ties = 0;
  for (const v of draws) {
    if (v < est) below++;
    else if (v === est) ties++;
  }
  const z0 = normQuantile(clampLevel((below + ties / 2) / nd, nd));
  return { est, widen, draws, z0, a: jackknifeAcceleration(units, stat, tc, tb, tw), degenerate: false };
}

const clampLevel = (q: number, nd: number) => Math.min(1 - 0.5 / nd, Math.max(0.5 / nd, q));

/** The BCa interval at two-sided level given by z; [θ̂, θ̂] for a degenerate fit. */
export function bcaCi(f: BcaFit, z = Z95): [number, number] {
  if (f.degenerate) return [f.est, f.est];
  const adj = (zq: number) => normCdf(f.z0 + (f.z0 + zq) / (1 - f.a * (f.z0 + zq)));
  const zw = z * f.widen;
  return [quantileSorted(f.draws, adj(-zw)), quantileSorted(f.draws, adj(zw))];
}

/**
 * One-sided p-value for H0: θ ≤ margin, by inverting the BCa lower limit: the α at which the
 * (1 − α) lower limit equals the margin. Consistent with bcaCi: lower 95% limit ≥ margin ⇔ p ≤ 0.025.
 */
export function bcaLowerPValue(f: BcaFit, margin: number): number {
  if (f.degenerate) return f.est > margin ? 0 : 1;
  const nd = f.draws.length;
  let below = 0;
  while (below < nd && (f.draws[below] as number) < margin) below++;
  const s = normQuantile(clampLevel(below / nd, nd));
  const w = (s - f.z0) / (1 + f.a * (s - f.z0));
  return 1 - normCdf((f.z0 - w) / f.widen);
}

/** BCa interval of stat over the units (see bcaFit); NaNs when the statistic is undefined. */
export function bcaInterval(units: readonly Unit[], stat: UnitStatistic, options: BcaOptions = {}): [number, number] {
  const f = bcaFit(units, stat, options);
  return f ? bcaCi(f, options.z) : [Number.NaN, Number.NaN];
}
