/**
 * `plan`'s promise, checked by simulation: run the number of cases casesToDecide predicts and the
 * real 95% ratio interval decides (clears the margin in the expected direction) at the stated power,
 * ± a few points. 2,000 simulated runs per scenario: ±0.9 points of standard error at 80%.
 */
import { describe, expect, it } from "vitest";
import { decideVerdict } from "../../src/report/verdict.js";
import { cellsFor } from "../../src/stats/exact-coverage.js";
import { casesToDecide, comparePaired, decisionStatus, moreCasesPhrase, moverRatioCi, type PairedTable, seededRng } from "../../src/stats/index.js";

function drawTable(rng: () => number, cells: [number, number, number, number], n: number): PairedTable {
  const t: PairedTable = { both: 0, candOnly: 0, baseOnly: 0, neither: 0 };
  for (let i = 0; i < n; i++) {
    const u = rng();
    if (u < cells[0]) t.both++;
    else if (u < cells[0] + cells[1]) t.candOnly++;
    else if (u < cells[0] + cells[1] + cells[2]) t.baseOnly++;
    else t.neither++;
  }
  return t;
}

describe("casesToDecide", () => {
  it.each([
    [0.8, 0.8, 0.5, 0.9],
    [0.9, 0.9, 0.6, 0.9],
    [0.97, 0.97, 0.5, 0.9],
    [0.7, 0.8, 0.3, 0.95],
    [0.75, 0.9, 0.5, 0.9],
  ])("cand %d vs base %d (φ %d, margin %d): the predicted n decides at 80% ± 4 points", (pc, pb, phi, margin) => {
    const cells = cellsFor(pc, pb, phi) as [number, number, number, number];
    const plan = casesToDecide({ table: { both: cells[0], candOnly: cells[1], baseOnly: cells[2], neither: cells[3] }, margin, power: 0.8 });
    expect(plan.cases).not.toBeNull();
    const n = plan.cases as number;
    const rng = seededRng(Math.round(pc * 1000 + pb * 100 + margin * 10));
    let decided = 0;
    const SIMS = 2000;
    for (let s = 0; s < SIMS; s++) {
      const ci = moverRatioCi(drawTable(rng, cells, n));
      if (ci && (plan.direction === "adopt" ? ci[0] >= margin : ci[1] < margin)) decided++;
    }
    expect(decided / SIMS).toBeGreaterThanOrEqual(0.76);
    expect(decided / SIMS).toBeLessThanOrEqual(0.84);
  });

  it("plans from a pilot with no discordant case instead of dividing by zero", () => {
    const p = casesToDecide({ table: { both: 20, candOnly: 0, baseOnly: 0, neither: 0 }, margin: 0.9, power: 0.8 });
    expect(p.direction).toBe("adopt");
    expect(p.cases).toBeGreaterThan(20);
  });

  it("says no n decides when the estimate sits on the margin", () => {
    const p = casesToDecide({ table: { both: 0.72, candOnly: 0, baseOnly: 0.08, neither: 0.2 }, margin: 0.9, power: 0.8 });
    expect(p.cases).toBeNull();
    expect(p.direction).toBe("undecidable");
  });
});

describe("an open comparison says how many more cases would decide", () => {
  it("in the comparison's status and in the INCONCLUSIVE verdict", () => {
    // 30 cases, base 27/30, candidate 26/30: ratio 0.96, interval straddles 0.9
    const base = [...Array(27).fill(1), 0, 0, 0];
    const cand = [...Array(25).fill(1), 0, 1, 0, 1, 0];
    const c = comparePaired(cand, base, { margin: 0.9 });
    const status = decisionStatus(c, 0.9);
    expect(status.settled).toBeNull();
    expect(status.moreCases).toBeGreaterThan(0);
    expect(moreCasesPhrase(status)).toMatch(/^about \d+ more cases would decide \(80% power\)$/);
    const v = decideVerdict(
      { id: "cand", baseline: "base", qualityRatio: c.qualityRatio, qualityRatioCi95: c.qualityRatioCi95, costRatio: 0.2, comparison: c },
      { minQualityRatio: 0.9, maxCostRatio: 0.5, maxErrorRate: 0.05 },
    );
    expect(v.verdict).toBe("inconclusive");
    expect(v.reason).toContain(`about ${status.moreCases} more cases would decide (80% power)`);
    expect(v.reason).toMatch(/non-inferiority p = /);
  });
});
