/**
 * Exact operating characteristics of the pass/fail paired intervals and tests: instead of
 * simulating, sum the multinomial probability of every 2×2 table of n cases whose interval covers
 * the truth (tables with probability < 1e-13 are skipped; their total mass is reported). No
 * Monte-Carlo error, so calibration claims about these methods are exact. Used by
 * test/stats/calibration.test.ts and bench/calibration.mjs.
 */
import { mcnemarExactFromCounts } from "./mcnemar.js";
import { moverRatioCi, newcombeDiffCi, type PairedTable } from "./paired-binary.js";

/** Cell probabilities of one case: both pass, only candidate, only baseline, neither. */
export type Cells = [number, number, number, number];

export interface ExactCoverage {
  diffCoverage: number;
  ratioCoverage: number;
  meanDiffWidth: number;
  meanRatioWidth: number;
  /** P(exact McNemar p < 0.05). Under the null (equal pass rates) this is the false-positive rate. */
  rejectRate: number;
  /** Probability mass of the skipped tables (an upper bound on the error of each figure). */
  skippedMass: number;
}

/** Cells with given pass rates and φ correlation between the two models' outcomes; null when impossible. */
export function cellsFor(pCand: number, pBase: number, phi: number): Cells | null {
  const both = pCand * pBase + phi * Math.sqrt(pCand * (1 - pCand) * pBase * (1 - pBase));
  const cells: Cells = [both, pCand - both, pBase - both, 1 - pCand - pBase + both];
  return cells.every((c) => c >= 0) ? cells : null;
}

/** Counts of one cell worth visiting: mean ± 10 sd ± 12 (the mass left out is measured, not assumed). */
function countRange(n: number, p: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [Math.max(0, Math.floor(n * p - 10 * sd - 12)), Math.min(n, Math.ceil(n * p + 10 * sd + 12))];
}

/** minProb: tables less likely than this are skipped (their mass is reported as skippedMass). */
export function exactPairedCoverage(n: number, cells: Cells, minProb = 1e-13): ExactCoverage {
  const cutoff = Math.log(minProb);
  const lf = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) lf[i] = (lf[i - 1] as number) + Math.log(i);
  const lp = cells.map((p) => (p > 0 ? Math.log(p) : Number.NEGATIVE_INFINITY));
  const pCand = cells[0] + cells[1];
  const pBase = cells[0] + cells[2];
  const truthDiff = pCand - pBase;
  const truthRatio = pCand / pBase;
  const acc = { diff: 0, ratio: 0, wd: 0, wr: 0, reject: 0, seen: 0 };
  const term = (k: number, i: number) => (k === 0 ? 0 : k * (lp[i] as number));
  const [aLo, aHi] = countRange(n, cells[0]);
  const [bLo, bHi] = countRange(n, cells[1]);
  const [cLo, cHi] = countRange(n, cells[2]);
  for (let a = aLo; a <= aHi; a++)
    for (let b = bLo; b <= bHi && a + b <= n; b++)
      for (let c = cLo; c <= cHi && a + b + c <= n; c++) {
        const d = n - a - b - c;
        const logP =
          (lf[n] as number) - (lf[a] as number) - (lf[b] as number) - (lf[c] as number) - (lf[d] as number) + term(a, 0) + term(b, 1) + term(c, 2) + term(d, 3);
        if (!(logP > cutoff)) continue;
        const p = Math.exp(logP);
        const t: PairedTable = { both: a, candOnly: b, baseOnly: c, neither: d };
        acc.seen += p;
        const dc = newcombeDiffCi(t);
        if (dc[0] <= truthDiff + 1e-12 && truthDiff - 1e-12 <= dc[1]) acc.diff += p;
        acc.wd += p * (dc[1] - dc[0]);
        const rc = moverRatioCi(t) ?? [0, Number.POSITIVE_INFINITY];
        if (rc[0] <= truthRatio * (1 + 1e-12) && truthRatio * (1 - 1e-12) <= rc[1]) acc.ratio += p;
        if (Number.isFinite(rc[1])) acc.wr += p * (rc[1] - rc[0]);
        if (mcnemarExactFromCounts(b, c) < 0.05) acc.reject += p;
      }
  return {
    diffCoverage: acc.diff,
    ratioCoverage: acc.ratio,
    meanDiffWidth: acc.wd,
    meanRatioWidth: acc.wr,
    rejectRate: acc.reject,
    skippedMass: Math.max(0, 1 - acc.seen),
  };
}
