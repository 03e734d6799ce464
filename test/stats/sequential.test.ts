/**
 * `--until-decided` keeps its promise despite peeking: simulate case streams with known truth, run
 * the group-sequential looks (the module's own schedule and α spending, the library's intervals),
 * stop when the ratio interval clears the margin, and check at the stopping look:
 * coverage of the reported difference and ratio intervals ≥ 92.5% in every cell, and the false
 * adoption rate (stopped with lower bound ≥ margin while the true ratio is exactly the margin)
 * ≤ 2.5% + Monte-Carlo error. 1,000 streams a cell: ±0.7 points of SE at 95%, ±0.5 at 2.5%.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import type { SequentialReport } from "../../src/evaluate/sequential.js";
import { lookSchedule, spendAlpha, zForAlpha } from "../../src/evaluate/sequential.js";
import type { EvalSummary } from "../../src/evaluate/summary.js";
import { cellsFor } from "../../src/stats/exact-coverage.js";
import { moverRatioCi, newcombeDiffCi, type PairedTable, seededRng } from "../../src/stats/index.js";
import { runCli } from "../support/cli.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const MARGIN = 0.9;

function runStream(rng: () => number, cells: number[], max: number) {
  const sched = lookSchedule(max);
  const alphas = spendAlpha(sched);
  const t: PairedTable = { both: 0, candOnly: 0, baseOnly: 0, neither: 0 };
  let drawn = 0;
  for (let j = 0; j < sched.length; j++) {
    for (; drawn < (sched[j] as number); drawn++) {
      const u = rng();
      if (u < (cells[0] as number)) t.both++;
      else if (u < (cells[0] as number) + (cells[1] as number)) t.candOnly++;
      else if (u < 1 - (cells[3] as number)) t.baseOnly++;
      else t.neither++;
    }
    const z = zForAlpha(alphas[j] as number);
    const ratio = moverRatioCi(t, z);
    const settled = ratio !== null && (ratio[0] >= MARGIN || ratio[1] < MARGIN);
    if (settled || j === sched.length - 1) return { cases: drawn, diff: newcombeDiffCi(t, z), ratio, adopted: ratio !== null && ratio[0] >= MARGIN };
  }
  throw new Error("unreachable");
}

describe("group-sequential design (library level)", () => {
  it("spends exactly α over the looks, and looks double up to the maximum", () => {
    expect(lookSchedule(200)).toEqual([20, 40, 80, 160, 200]);
    expect(lookSchedule(15)).toEqual([15]);
    const a = spendAlpha(lookSchedule(200));
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(0.05, 12);
    for (const x of a) expect(x).toBeGreaterThan(0);
  });

  const SIMS = 1000;
  const cells: [number, number, number, number][] = [];
  for (const max of [50, 200])
    for (const pBase of [0.7, 0.9])
      for (const delta of [0, 0.05])
        for (const phi of [0.1, 0.7]) {
          let f = phi;
          let c = cellsFor(pBase - delta, pBase, f);
          while (!c) {
            f *= 0.9;
            c = cellsFor(pBase - delta, pBase, f);
          }
          cells.push([max, pBase, delta, f]);
        }

  it("reported intervals cover ≥ 92.5% at the stopping look in every cell", () => {
    for (const [max, pBase, delta, phi] of cells) {
      const c = cellsFor(pBase - delta, pBase, phi) as number[];
      const rng = seededRng(max * 7 + Math.round(pBase * 100) + Math.round(delta * 1000) + Math.round(phi * 10));
      const truthDiff = -delta;
      const truthRatio = (pBase - delta) / pBase;
      let coverDiff = 0;
      let coverRatio = 0;
      for (let s = 0; s < SIMS; s++) {
        const r = runStream(rng, c, max);
        if (r.diff[0] <= truthDiff + 1e-12 && truthDiff - 1e-12 <= r.diff[1]) coverDiff++;
        if (r.ratio && r.ratio[0] <= truthRatio * (1 + 1e-12) && truthRatio * (1 - 1e-12) <= r.ratio[1]) coverRatio++;
      }
      const label = `max=${max} base=${pBase} Δ=${delta} φ=${phi.toFixed(2)}`;
      expect(coverDiff / SIMS, label).toBeGreaterThanOrEqual(0.925);
      expect(coverRatio / SIMS, label).toBeGreaterThanOrEqual(0.925);
    }
  });

  it("adopts a candidate whose true ratio is exactly the margin at most 2.5% (+ 3 SE) of the time", () => {
    const c = cellsFor(0.72, 0.8, 0.5) as number[];
    const rng = seededRng(77);
    let adopted = 0;
    for (let s = 0; s < 2000; s++) if (runStream(rng, c, 400).adopted) adopted++;
    expect(adopted / 2000).toBeLessThanOrEqual(0.025 + 3 * Math.sqrt((0.025 * 0.975) / 2000));
  });

  it("on a clear-cut comparison uses a fraction of the suite", () => {
    const c = cellsFor(0.5, 0.9, 0.2) as number[];
    const rng = seededRng(5);
    let used = 0;
    for (let s = 0; s < 500; s++) used += runStream(rng, c, 400).cases;
    expect(used / 500 / 400).toBeLessThan(0.25);
  });
});

describe("eval --until-decided through the CLI", () => {
  const stubs: Simulator[] = [];
  afterAll(async () => {
    await Promise.all(stubs.map((s) => s.close()));
  });

  it("stops a clear-cut suite early, sends fewer requests, and says why", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "suite.yaml": labelSuite("s", 320),
      "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]),
    });
    const project = loadProject(join(dir, "weightbridge.yaml"));
    const a = await startStub({ behaviour: behaviourFor(project.suites, 0.95, 1) });
    const b = await startStub({ behaviour: behaviourFor(project.suites, 0.4, 2) });
    stubs.push(a, b);
    writeFiles(dir, { "weightbridge.yaml": twoModelConfig(a.baseUrl, b.baseUrl, ["suite.yaml"]) });
    const r = await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--until-decided", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as EvalSummary;
    const seq = s.sequential as SequentialReport;
    expect(seq).toMatchObject({ design: "group-sequential", stoppedEarly: true });
    const suite = seq.suites[0];
    expect(suite?.settled).toBe(true);
    expect(suite?.cases).toBeLessThan(320);
    expect(a.stats.chat).toBe(suite?.cases);
    expect(b.stats.chat).toBe(suite?.cases);
    const beta = s.suites[0]?.models.find((m) => m.id === "beta");
    expect(beta?.n).toBe(suite?.cases);
    expect(beta?.vsBaseline?.qualityRatioCi95?.[1]).toBeLessThan(0.9);
    // the reported interval is at the look's spent level: wider than the plain 95% one on the same table
    const plain = moverRatioCi(beta?.vsBaseline?.table as PairedTable) as [number, number];
    expect((beta?.vsBaseline?.qualityRatioCi95?.[1] ?? 0) - (beta?.vsBaseline?.qualityRatioCi95?.[0] ?? 0)).toBeGreaterThan(plain[1] - plain[0]);
    // stored with the run: runs show gives the same adjusted intervals, the report says where and why it stopped
    const shown = JSON.parse((await runCli(["runs", "show", s.runId, "-c", join(dir, "weightbridge.yaml"), "--json"])).stdout) as EvalSummary;
    expect(shown.sequential).toEqual(seq);
    expect(shown.suites[0]?.models.find((m) => m.id === "beta")?.vsBaseline?.qualityRatioCi95).toEqual(beta?.vsBaseline?.qualityRatioCi95);
    const md = await runCli(["report", s.runId, "-c", join(dir, "weightbridge.yaml"), "--format", "md"]);
    expect(md.stdout).toMatch(/Sequential run \(--until-decided\): suite s stopped early after \d+ of 320 cases/);
    const text = await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--until-decided"]);
    expect(text.stdout).toMatch(/s: stopped early after \d+ of 320 cases \(look \d, α 0\.\d+\): every candidate's interval clears the 90% margin/);
  });

  it("--until-decided without a baseline is a usage error", async () => {
    const dir = tempDir();
    const config = twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]).replace("baseline: alpha\n", "");
    writeFiles(dir, { "suite.yaml": labelSuite("s", 5), "weightbridge.yaml": config });
    const r = await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--until-decided"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --until-decided needs a baseline/);
  });

  it("--max-cases without --until-decided is a usage error", async () => {
    const r = await runCli(["eval", "-c", "nope.yaml", "--max-cases", "10"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-cases needs --until-decided/);
  });
});
