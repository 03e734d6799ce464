import { describe, expect, it } from "vitest";
import {
  bootstrapMeanCi,
  estimateMean,
  holmAdjust,
  mcnemarExact,
  mcnemarExactFromCounts,
  newcombeDiffCi,
  normCdf,
  normQuantile,
  pairedBootstrap,
  pairedPermutationTest,
  quantile,
  seededRng,
  wilsonInterval,
} from "../../src/stats/index.js";

describe("wilsonInterval", () => {
  it("matches published values", () => {
    // 81/263 → [0.2553, 0.3662] (Wilson 1927 / Newcombe 1998 worked example, 95%)
    const [lo, hi] = wilsonInterval(81, 263);
    expect(lo).toBeCloseTo(0.2553, 3);
    expect(hi).toBeCloseTo(0.3662, 3);
  });
  it("stays inside [0, 1] at the edges", () => {
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(10, 10)[1]).toBe(1);
    expect(wilsonInterval(0, 10)[1]).toBeCloseTo(0.2775, 3);
  });
});

describe("mcnemarExact", () => {
  it("is the two-sided binomial test on discordant pairs", () => {
    // b = 1, c = 9: 2 * P(X <= 1 | n = 10, p = 0.5) = 2 * 11/1024
    expect(mcnemarExactFromCounts(1, 9)).toBeCloseTo(22 / 1024, 10);
    expect(mcnemarExactFromCounts(5, 5)).toBe(1);
    expect(mcnemarExactFromCounts(0, 0)).toBe(1);
  });
  it("counts discordant pairs from paired 0/1 scores", () => {
    const cand = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const base = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    expect(mcnemarExact(cand, base)).toBeCloseTo(22 / 1024, 10);
  });
});

describe("pairedPermutationTest", () => {
  it("enumerates exactly for few differences", () => {
    // 4 positive differences of 1: only the all-positive and all-negative sign patterns are as extreme
    expect(pairedPermutationTest([1, 1, 1, 1], [0, 0, 0, 0])).toBeCloseTo(2 / 16, 10);
  });
  it("gives p = 1 when nothing differs", () => {
    expect(pairedPermutationTest([0.5, 0.2], [0.5, 0.2])).toBe(1);
  });
});

describe("bootstrap and estimateMean", () => {
  it("uses Wilson for 0/1 scores and BCa otherwise", () => {
    expect(estimateMean([1, 0, 1, 1]).method).toBe("wilson");
    const e = estimateMean([0.2, 0.4, 0.6, 0.8]);
    expect(e.method).toBe("bca");
    expect(e.mean).toBeCloseTo(0.5, 10);
    expect(e.ci95[0]).toBeLessThan(0.5);
    expect(e.ci95[1]).toBeGreaterThan(0.5);
  });
  it("is reproducible (seeded)", () => {
    const xs = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
    expect(bootstrapMeanCi(xs)).toEqual(bootstrapMeanCi(xs));
  });
  it("quantile interpolates like numpy's default", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30], 0.95)).toBeCloseTo(29, 10);
  });
});

describe("pairedBootstrap", () => {
  it("draws exactly the resamples of seededRng(seed): same intervals as the plain percentile bootstrap", () => {
    const rng = seededRng(3);
    const cand = Array.from({ length: 57 }, () => Math.round(rng() * 10) / 10);
    const base = Array.from({ length: 57 }, () => Math.round(rng() * 10) / 10);
    const b = 2000;
    const draw = seededRng(99);
    const diffs: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < b; r++) {
      let sc = 0;
      let sb = 0;
      for (let i = 0; i < cand.length; i++) {
        const k = Math.floor(draw() * cand.length);
        sc += cand[k] as number;
        sb += base[k] as number;
      }
      diffs.push((sc - sb) / cand.length);
      ratios.push(sc / sb);
    }
    const got = pairedBootstrap(cand, base, { resamples: b, seed: 99 });
    const want = [quantile(diffs, 0.025), quantile(diffs, 0.975), quantile(ratios, 0.025), quantile(ratios, 0.975)];
    const have = [...got.diffCi95, ...(got.ratioCi95 ?? [])];
    expect(have).toHaveLength(4);
    for (const [i, v] of have.entries()) expect(v).toBeCloseTo(want[i] as number, 12);
  });
});

describe("normal distribution, Holm, score intervals: reference values", () => {
  it("Φ and Φ⁻¹ match tabulated values", () => {
    expect(normCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normCdf(-1)).toBeCloseTo(0.158655254, 6);
    expect(normQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normQuantile(0.001)).toBeCloseTo(-3.090232306, 7);
  });
  it("Holm: p-values sorted, multiplied by m, m−1, …, kept monotone, capped at 1", () => {
    expect(holmAdjust([0.01, 0.04, 0.03, 0.5])).toEqual([0.04, 0.09, 0.09, 0.5]);
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
  });
  it("Newcombe method 10 with φ = 0 (0 ≤ AD − BC ≤ n/2 shrinks to 0) is the square-and-add of the two Wilson intervals", () => {
    const t = { both: 10, candOnly: 6, baseOnly: 3, neither: 1 }; // AD − BC = 10 − 18 < 0: φ < 0
    const u = { both: 9, candOnly: 3, baseOnly: 2, neither: 1 }; // AD − BC = 9 − 6 = 3 ≤ n/2 = 7.5 → φ = 0
    const n = 15;
    const [l1, u1] = wilsonInterval(12, n);
    const [l2, u2] = wilsonInterval(11, n);
    const d = 12 / n - 11 / n;
    const ci = newcombeDiffCi(u);
    expect(ci[0]).toBeCloseTo(d - Math.hypot(12 / n - l1, u2 - 11 / n), 12);
    expect(ci[1]).toBeCloseTo(d + Math.hypot(11 / n - l2, u1 - 12 / n), 12);
    // negative association (φ < 0) widens it
    const w = newcombeDiffCi(t);
    const [a1, b1] = wilsonInterval(16, 20);
    const [a2, b2] = wilsonInterval(13, 20);
    expect(w[0]).toBeLessThan(16 / 20 - 13 / 20 - Math.hypot(16 / 20 - a1, b2 - 13 / 20));
    expect(w[1]).toBeGreaterThan(16 / 20 - 13 / 20 + Math.hypot(13 / 20 - a2, b1 - 16 / 20));
  });
});
