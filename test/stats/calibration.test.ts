/**
 * Honest error bars: simulate many evaluations with known truth and check that the 95% intervals
 * cover the truth ~95% of the time, and that the tests reject a true null at most ~5% of the time.
 */
import { describe, expect, it } from "vitest";
import { comparePaired, pairedBootstrap, pairedPermutationTest, seededRng, wilsonInterval } from "../../src/stats/index.js";

const SIMS = 1000;

/** Paired pass/fail outcomes drawn from cell probabilities [both pass, base only, cand only, neither]. */
function pairedBinary(rng: () => number, n: number, cells: [number, number, number, number]): { cand: number[]; base: number[] } {
  const cand: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng();
    if (u < cells[0]) {
      cand.push(1);
      base.push(1);
    } else if (u < cells[0] + cells[1]) {
      cand.push(0);
      base.push(1);
    } else if (u < cells[0] + cells[1] + cells[2]) {
      cand.push(1);
      base.push(0);
    } else {
      cand.push(0);
      base.push(0);
    }
  }
  return { cand, base };
}

describe("calibration under known truth", () => {
  it("paired-bootstrap 95% CIs of the difference and the quality ratio cover the truth 93–97% of the time", () => {
    const rng = seededRng(12345);
    // base passes 80%, candidate 75%, correlated: true diff −0.05, true ratio 0.9375
    const cells: [number, number, number, number] = [0.7, 0.1, 0.05, 0.15];
    let coverDiff = 0;
    let coverRatio = 0;
    for (let s = 0; s < SIMS; s++) {
      const { cand, base } = pairedBinary(rng, 200, cells);
      const b = pairedBootstrap(cand, base, { resamples: 2000, seed: s + 1 });
      if (b.diffCi95[0] <= -0.05 && -0.05 <= b.diffCi95[1]) coverDiff++;
      if (b.ratioCi95 && b.ratioCi95[0] <= 0.9375 && 0.9375 <= b.ratioCi95[1]) coverRatio++;
    }
    expect(coverDiff / SIMS).toBeGreaterThanOrEqual(0.93);
    expect(coverDiff / SIMS).toBeLessThanOrEqual(0.97);
    expect(coverRatio / SIMS).toBeGreaterThanOrEqual(0.93);
    expect(coverRatio / SIMS).toBeLessThanOrEqual(0.97);
  });

  it("paired-bootstrap CIs of continuous score differences cover the truth 93–97% of the time", () => {
    const rng = seededRng(999);
    let cover = 0;
    for (let s = 0; s < SIMS; s++) {
      const base: number[] = [];
      const cand: number[] = [];
      for (let i = 0; i < 150; i++) {
        const difficulty = rng();
        base.push(Math.min(1, Math.max(0, 0.7 - 0.4 * difficulty + (rng() - 0.5) * 0.3)));
        cand.push(Math.min(1, Math.max(0, 0.65 - 0.4 * difficulty + (rng() - 0.5) * 0.3)));
      }
      // clipping to [0, 1] moves the truth slightly off −0.05: TRUE_CONTINUOUS_DIFF is computed below
      const b = pairedBootstrap(cand, base, { resamples: 2000, seed: s + 7 });
      if (b.diffCi95[0] <= TRUE_CONTINUOUS_DIFF && TRUE_CONTINUOUS_DIFF <= b.diffCi95[1]) cover++;
    }
    expect(cover / SIMS).toBeGreaterThanOrEqual(0.93);
    expect(cover / SIMS).toBeLessThanOrEqual(0.97);
  });

  it("Wilson intervals have exact coverage within 93–97% over a grid of pass rates and sizes", () => {
    // Exact: sum the binomial probabilities of every k whose interval contains p.
    const logFact = (x: number) => {
      let s = 0;
      for (let i = 2; i <= x; i++) s += Math.log(i);
      return s;
    };
    for (const n of [100, 200, 300])
      for (const p of [0.5, 0.6, 0.7, 0.8, 0.9]) {
        let coverage = 0;
        for (let k = 0; k <= n; k++) {
          const [lo, hi] = wilsonInterval(k, n);
          if (lo <= p && p <= hi) coverage += Math.exp(logFact(n) - logFact(k) - logFact(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
        }
        expect(coverage, `n=${n} p=${p}`).toBeGreaterThanOrEqual(0.93);
        expect(coverage, `n=${n} p=${p}`).toBeLessThanOrEqual(0.97);
      }
  });

  it("Wilson intervals cover the truth 93–97% of the time over 1000 runs with a random true pass rate", () => {
    const rng = seededRng(4242);
    let cover = 0;
    for (let s = 0; s < SIMS; s++) {
      const truth = 0.5 + rng() * 0.45;
      let k = 0;
      for (let i = 0; i < 150; i++) if (rng() < truth) k++;
      const [lo, hi] = wilsonInterval(k, 150);
      if (lo <= truth && truth <= hi) cover++;
    }
    expect(cover / SIMS).toBeGreaterThanOrEqual(0.93);
    expect(cover / SIMS).toBeLessThanOrEqual(0.97);
  });

  it("exact McNemar rejects a true null at α = 0.05 at most 6% of the time", () => {
    const rng = seededRng(777);
    let rejections = 0;
    for (let s = 0; s < SIMS; s++) {
      const { cand, base } = pairedBinary(rng, 200, [0.7, 0.1, 0.1, 0.1]);
      if (comparePaired(cand, base).pValue < 0.05) rejections++;
    }
    expect(rejections / SIMS).toBeLessThanOrEqual(0.06);
    expect(rejections / SIMS).toBeGreaterThan(0.01); // not absurdly conservative either
  });

  it("the paired permutation test rejects a true null at α = 0.05 at most 6% of the time", () => {
    const rng = seededRng(31337);
    let rejections = 0;
    for (let s = 0; s < SIMS; s++) {
      const base: number[] = [];
      const cand: number[] = [];
      for (let i = 0; i < 40; i++) {
        const level = rng();
        base.push(level * 0.8 + rng() * 0.2);
        cand.push(level * 0.8 + rng() * 0.2);
      }
      if (pairedPermutationTest(cand, base, { permutations: 2000, seed: s + 3 }) < 0.05) rejections++;
    }
    expect(rejections / SIMS).toBeLessThanOrEqual(0.06);
    expect(rejections / SIMS).toBeGreaterThan(0.01);
  });

  it("detects a real difference (power)", () => {
    const rng = seededRng(2024);
    const { cand, base } = pairedBinary(rng, 400, [0.6, 0.2, 0.05, 0.15]);
    const c = comparePaired(cand, base);
    expect(c.pValue).toBeLessThan(0.001);
    expect(c.ci95[1]).toBeLessThan(0);
  });
});

/** Population difference of the continuous design above, by a 2-million-case Monte Carlo (seeded). */
const TRUE_CONTINUOUS_DIFF = (() => {
  const rng = seededRng(1);
  let s = 0;
  const N = 2_000_000;
  for (let i = 0; i < N; i++) {
    const difficulty = rng();
    const b = Math.min(1, Math.max(0, 0.7 - 0.4 * difficulty + (rng() - 0.5) * 0.3));
    const c = Math.min(1, Math.max(0, 0.65 - 0.4 * difficulty + (rng() - 0.5) * 0.3));
    s += c - b;
  }
  return s / N;
})();
