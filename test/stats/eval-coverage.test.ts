/**
 * What users see: many suites of 30 cases through the real CLI (`eval --json`) against stub models
 * with known accuracy (each answers a case right with a fixed probability, independently of the
 * other model: truth diff = 0.85 − 0.9, ratio = 0.85 / 0.9). Every suite's interval must be the
 * library's score interval on that suite's table, and the intervals must cover the truth at the
 * rate the exact calculation promises for this cell. 80 suites here (coverage ±2.4 points of
 * standard error); bench/calibration.mjs runs the full 500. Then `plan --from` that run.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import type { EvalSummary } from "../../src/evaluate/summary.js";
import { cellsFor, exactPairedCoverage } from "../../src/stats/exact-coverage.js";
import { moverRatioCi, newcombeDiffCi, type PairedTable } from "../../src/stats/index.js";
import { runCli } from "../support/cli.js";
import { tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const SUITES = 80;
const CASES = 30;
const ACC_BASE = 0.9;
const ACC_CAND = 0.85;

function suite(s: number): string {
  const lines = [`name: s${s}`, 'system: "Answer with one label: alpha, beta or gamma."', 'prompt: "Suite {{s}} case {{i}}: {{text}}"', "cases:"];
  const labels = ["alpha", "beta", "gamma"];
  for (let i = 0; i < CASES; i++) lines.push(`  - vars: { s: ${s}, i: ${i}, text: "message ${i}" }`, `    expect: { type: label, value: ${labels[i % 3]} }`);
  return `${lines.join("\n")}\n`;
}

let dir = "";
let config = "";
let summary: EvalSummary;
const stubs: Simulator[] = [];

beforeAll(async () => {
  dir = tempDir();
  const files = Array.from({ length: SUITES }, (_, s) => `s${s}.yaml`);
  writeFiles(dir, Object.fromEntries(files.map((f, s) => [f, suite(s)])));
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", files) });
  const project = loadProject(join(dir, "weightbridge.yaml"));
  stubs.push(
    await startStub({ behaviour: behaviourFor(project.suites, ACC_BASE, 11) }),
    await startStub({ behaviour: behaviourFor(project.suites, ACC_CAND, 22) }),
  );
  config = join(dir, "weightbridge.yaml");
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig((stubs[0] as Simulator).baseUrl, (stubs[1] as Simulator).baseUrl, files) });
  const r = await runCli(["eval", "-c", config, "--json", "--concurrency", "64"], { timeoutMs: 170_000 });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  summary = JSON.parse(r.stdout) as EvalSummary;
}, 180_000);
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
});

describe(`eval --json over ${SUITES} suites × ${CASES} cases with known truth`, () => {
  it("reports each suite's score intervals from its own 2×2 table, and covers the truth as the exact calculation says", () => {
    const truthDiff = ACC_CAND - ACC_BASE;
    const truthRatio = ACC_CAND / ACC_BASE;
    let coverDiff = 0;
    let coverRatio = 0;
    for (const s of summary.suites) {
      const v = s.models.find((m) => m.id === "beta")?.vsBaseline;
      expect(v?.method).toBe("newcombe-mover");
      const t = v?.table as PairedTable;
      expect(t.both + t.candOnly + t.baseOnly + t.neither).toBe(CASES);
      const d = newcombeDiffCi(t);
      const r = moverRatioCi(t) as [number, number];
      expect(v?.ci95[0]).toBeCloseTo(d[0], 5);
      expect(v?.ci95[1]).toBeCloseTo(d[1], 5);
      expect(v?.qualityRatioCi95?.[0]).toBeCloseTo(r[0], 5);
      expect(v?.qualityRatioCi95?.[1]).toBeCloseTo(r[1], 5);
      if (d[0] <= truthDiff && truthDiff <= d[1]) coverDiff++;
      if (r[0] <= truthRatio && truthRatio <= r[1]) coverRatio++;
    }
    const exact = exactPairedCoverage(CASES, cellsFor(ACC_CAND, ACC_BASE, 0) as [number, number, number, number]);
    // Independent models: the exact coverage of this cell; 80 suites carry ±2.4 points (1 SE), so allow 3 SE.
    expect(coverDiff / SUITES).toBeGreaterThanOrEqual(exact.diffCoverage - 0.075);
    expect(coverRatio / SUITES).toBeGreaterThanOrEqual(exact.ratioCoverage - 0.075);
  });

  it("adjusts the p-values for the 80 comparisons (Holm) and says so", () => {
    expect(summary.multiplicity).toMatchObject({ method: "holm", comparisons: SUITES });
    for (const s of summary.suites) {
      const v = s.models.find((m) => m.id === "beta")?.vsBaseline;
      expect(v?.pValueHolm).toBeGreaterThanOrEqual(v?.pValue as number);
      expect(v?.nonInferiority?.margin).toBe(0.9);
    }
  });

  it("the report says how the p-values were adjusted, and its verdict quotes the non-inferiority test", async () => {
    const r = await runCli(["report", summary.runId, "-c", config, "--format", "md"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `Multiple comparisons: p-values adjusted (Holm) over ${SUITES} candidate × suite comparisons; each verdict's 95% interval is not adjusted.`,
    );
    expect(r.stdout).toMatch(/non-inferiority p [<=]/);
  });

  it("plan --from the run: cases per suite to decide at 80% power and their cost at the run's tokens and prices", async () => {
    const r = await runCli(["plan", "-c", config, "--from", summary.runId, "--margin", "0.9", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      margin: number;
      power: number;
      suites: { name: string; casesNeeded: number | null; cost: { model: string; usdPerCase: number; usd: number }[] }[];
    };
    expect(plan).toMatchObject({ margin: 0.9, power: 0.8 });
    expect(plan.suites).toHaveLength(SUITES);
    for (const s of plan.suites) {
      const beta = summary.suites.find((x) => x.name === s.name)?.models.find((m) => m.id === "beta");
      const cost = s.cost.find((c) => c.model === "beta");
      if (s.casesNeeded === null) continue;
      // JSON figures carry 12 significant digits (no float noise in outputs), so compare relatively.
      const rel = (a: number | undefined, b: number) => Math.abs((a as number) - b) / Math.max(Math.abs(b), 1e-300);
      expect(rel(cost?.usdPerCase, (beta?.cost.usd as number) / CASES)).toBeLessThan(1e-10);
      expect(rel(cost?.usd, (cost?.usdPerCase as number) * s.casesNeeded)).toBeLessThan(1e-10);
    }
  });

  it("plan with contradictory assumptions is a usage error, not a stack trace", async () => {
    const r = await runCli(["plan", "--baseline-accuracy", "0.9", "--candidate-accuracy", "0.5", "--discordance", "0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no pair of models/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
