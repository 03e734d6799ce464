/**
 * Closed-form score intervals for two models graded pass/fail on the same cases, with known
 * small-sample behaviour (the paired percentile bootstrap collapses to [0, 0] when no case differs):
 * - difference of pass rates: Newcombe's hybrid score interval, method 10 (Newcombe 1998), built
 *   from the two Wilson intervals and the φ correlation of the 2×2 table;
 * - ratio candidate/baseline: MOVER (Donner & Zou 2012; Tang, Li & Tang 2012) from the same Wilson
 *   intervals and φ, found by bisection because the limit functions are monotone in the ratio.
 * Pure; no resampling, so exact coverage can be computed by enumerating tables (test/stats).
 */
import { normCdf } from "./normal.js";
import { wilsonInterval, Z95 } from "./wilson.js";

/** A paired 2×2 table: both pass, only the candidate passes, only the baseline passes, neither. */
export interface PairedTable {
  both: number;
  candOnly: number;
  baseOnly: number;
  neither: number;
}

export function pairedTable(candidate: readonly number[], baseline: readonly number[]): PairedTable {
  const t: PairedTable = { both: 0, candOnly: 0, baseOnly: 0, neither: 0 };
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate[i] === 1;
    const b = baseline[i] === 1;
    if (c && b) t.both++;
    else if (c) t.candOnly++;
    else if (b) t.baseOnly++;
    else t.neither++;
  }
  return t;
}

interface Margins {
  n: number;
  p1: number;
  p2: number;
  w1: [number, number];
  w2: [number, number];
  phi: number;
}

/** Wilson intervals of both pass rates and Newcombe's continuity-corrected φ (0 when a margin is empty). */
function margins(t: PairedTable, z: number): Margins {
  const n = t.both + t.candOnly + t.baseOnly + t.neither;
  const k1 = t.both + t.candOnly;
  const k2 = t.both + t.baseOnly;
  const denom = k1 * (n - k1) * k2 * (n - k2);
  const cross = t.both * t.neither - t.candOnly * t.baseOnly;
  // Newcombe: numerator AD − BC shrunk by n/2 towards 0 when positive, kept when negative.
  const num = cross > n / 2 ? cross - n / 2 : Math.min(cross, 0);
  return { n, p1: k1 / n, p2: k2 / n, w1: wilsonInterval(k1, n, z), w2: wilsonInterval(k2, n, z), phi: denom > 0 ? num / Math.sqrt(denom) : 0 };
}

/** Newcombe (1998) method 10: CI of p(candidate) − p(baseline). */
export function newcombeDiffCi(t: PairedTable, z = Z95): [number, number] {
  const m = margins(t, z);
  if (m.n === 0) return [-1, 1];
  const d = m.p1 - m.p2;
  const a1 = m.p1 - m.w1[0];
  const b1 = m.w1[1] - m.p1;
  const a2 = m.p2 - m.w2[0];
  const b2 = m.w2[1] - m.p2;
  const lo = d - Math.sqrt(Math.max(0, a1 * a1 - 2 * m.phi * a1 * b2 + b2 * b2));
  const hi = d + Math.sqrt(Math.max(0, a2 * a2 - 2 * m.phi * a2 * b1 + b1 * b1));
  return [Math.max(-1, lo), Math.min(1, hi)];
}

/** Bisection for the boundary of a monotone predicate on [lo, hi]: the last x where ok(x) holds. */
function boundary(ok: (x: number) => boolean, lo: number, hi: number): number {
  for (let i = 0; i < 60 && hi - lo > 1e-10 * (1 + hi); i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const RATIO_CAP = 1e6;

/**
 * MOVER CI of p(candidate) / p(baseline); null when the baseline never passes. The lower limit L
 * is where the MOVER lower limit of p1 − θ·p2 reaches 0 (that function is concave in θ, so
 * {θ ≥ 0 : limit ≥ 0} is an interval [0, L]); the upper limit likewise from the (convex,
 * non-increasing) upper limit.
 */
export function moverRatioCi(t: PairedTable, z = Z95): [number, number] | null {
  const m = margins(t, z);
  if (m.n === 0 || m.p2 === 0) return null;
  const ratio = m.p1 / m.p2;
  const a1 = m.p1 - m.w1[0];
  const b1 = m.w1[1] - m.p1;
  const a2 = m.p2 - m.w2[0];
  const b2 = m.w2[1] - m.p2;
  const lowerOk = (th: number) => m.p1 - th * m.p2 - Math.sqrt(Math.max(0, a1 * a1 + th * th * b2 * b2 - 2 * m.phi * th * a1 * b2)) >= 0;
  const upperOk = (th: number) => m.p1 - th * m.p2 + Math.sqrt(Math.max(0, b1 * b1 + th * th * a2 * a2 - 2 * m.phi * th * b1 * a2)) >= 0;
  const lo = lowerOk(0) ? boundary(lowerOk, 0, ratio) : 0;
  let top = Math.max(2 * ratio, 1);
  while (upperOk(top) && top < RATIO_CAP) top *= 2;
  const hi = boundary(upperOk, ratio, Math.min(top, RATIO_CAP));
  return [lo, hi];
}

/**
 * One-sided p-value of the non-inferiority test H0: ratio ≤ margin vs H1: ratio > margin, by
 * inverting the same MOVER interval: the α at which the one-sided (1 − α) lower limit equals the
 * margin. So "lower 95% limit ≥ margin" and "p < 0.025" are the same decision.
 */
export function nonInferiorityPValue(t: PairedTable, margin: number): number | null {
  const at0 = moverRatioCi(t, 1e-9);
  if (!at0) return null;
  const est = (at0[0] + at0[1]) / 2;
  if (est >= margin) {
    const zStar = boundary((z) => (moverRatioCi(t, z) as [number, number])[0] >= margin, 0, 40);
    return 1 - normCdf(zStar);
  }
  const zStar = boundary((z) => (moverRatioCi(t, z) as [number, number])[1] < margin, 0, 40);
  return normCdf(zStar);
}
