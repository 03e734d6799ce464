import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { distribution, type LevelResult } from "../../src/economics/loadtest.js";
import { apiMonthly, breakEvenRequestsPerMonth, HOURS_PER_MONTH, pickLevel, selfHostedMonthly, selfHostUnitCosts } from "../../src/economics/tco.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const level = (c: number, tokPerS: number, p95: number, errorRate = 0): LevelResult => ({
  concurrency: c,
  requests: 100,
  errors: 0,
  errorRate,
  durationS: 10,
  requestsPerS: tokPerS / 100,
  ttftMs: distribution([50]),
  itlMs: distribution([10]),
  latencyMs: { p50: p95 / 2, p95, p99: p95, mean: p95 / 2 },
  outputTokensPerSPerRequest: distribution([40]),
  outputTokensPerS: tokPerS,
  inputTokensPerS: tokPerS * 4,
  meanInputTokens: 400,
  meanOutputTokens: 100,
});

describe("cost model", () => {
  const hosting = { gpu: "H100", gpus: 2, hourlyUsd: 2.5, source: "test" };
  it("prices tokens from measured throughput and utilisation", () => {
    const u = selfHostUnitCosts(level(16, 1000, 900), hosting, 0.5);
    expect(u.usdPerHour).toBe(5);
    // 1000 tok/s × 0.5 × 3600 = 1.8M tok/h → $5 / 1.8M × 1M
    expect(u.usdPer1MOutputTokens).toBeCloseTo(5 / 1.8, 10);
    expect(u.usdPer1MTokens).toBeCloseTo(5 / 9, 10);
  });
  it("picks the busiest level that meets the p95 target", () => {
    const levels = [level(1, 100, 300), level(8, 700, 800), level(32, 1500, 2500), level(64, 1800, 6000, 0.05)];
    expect(pickLevel(levels, 1000)?.level.concurrency).toBe(8);
    expect(pickLevel(levels)?.level.concurrency).toBe(32); // 64 has 5% errors
    expect(pickLevel(levels, 10)).toMatchObject({ meetsTarget: false });
  });
  it("sizes replicas for the workload and finds the break-even volume", () => {
    const w = { requestsPerMonth: 10_000_000, inputTokens: 800, outputTokens: 200 };
    const l = level(16, 1000, 900);
    const s = selfHostedMonthly("self", w, l, hosting, 0.5);
    // needs 10M × 200 / (730 × 3600) = 761 tok/s; one replica gives 500 → 2 replicas, 4 GPUs
    expect(s).toMatchObject({ replicas: 2, gpus: 4 });
    expect(s.monthlyUsd).toBeCloseTo(4 * 2.5 * HOURS_PER_MONTH, 6);
    const api = { name: "api", price: { input: 2.5, output: 10 }, source: "t" };
    expect(apiMonthly(w, api).monthlyUsd).toBeCloseTo(40_000, 6);
    // one replica costs 2 × 2.5 × 730 = $3,650 → 3650 / 0.004 = 912,500 requests
    expect(breakEvenRequestsPerMonth(w, api, l, hosting, 0.5)).toBe(912_500);
    expect(breakEvenRequestsPerMonth(w, { name: "cheap", price: { input: 0.01, output: 0.01 }, source: "t" }, l, hosting, 0.5)).toBeNull();
  });
});

describe("weightbridge bench and cost against the simulator", () => {
  it("measures TTFT, inter-token latency and throughput per level, stores them, and costs self-hosting", async () => {
    const sim = await startStub({
      behaviour: { mode: "script", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" },
      latencyMs: 40,
      tokensPerSecond: 200,
    });
    open.push(sim);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: sim\n    provider: openai-compatible\n    baseUrl: ${sim.baseUrl}\n    model: sim\n    hosting: { gpu: H100, gpus: 1, hourlyUsd: 2 }\n  - id: api\n    provider: openai-compatible\n    baseUrl: ${sim.baseUrl}\n    model: api\n    price: { input: 1, output: 4 }\nsuites: [s.yaml]\n`,
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const config = join(dir, "weightbridge.yaml");
    const b = await runCli([
      "bench",
      "sim",
      "-c",
      config,
      "--concurrency",
      "1,4",
      "--requests",
      "12",
      "--input-tokens",
      "64:128",
      "--output-tokens",
      "20",
      "--ignore-eos",
      "--json",
    ]);
    expect(b.code, b.stderr).toBe(0);
    const bench = JSON.parse(b.stdout) as { runId: string; levels: LevelResult[] };
    expect(bench.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    for (const l of bench.levels) {
      expect(l.requests).toBe(12);
      expect(l.errors).toBe(0);
      expect(l.meanOutputTokens).toBe(20); // ignore_eos: exactly max_tokens
      expect(l.ttftMs.p50).toBeGreaterThanOrEqual(38);
      expect(l.ttftMs.p50).toBeLessThan(200);
      // 200 chunks/s → ~5 ms between tokens
      expect(l.itlMs.p50).toBeGreaterThan(3);
      expect(l.itlMs.p50).toBeLessThan(15);
      expect(l.outputTokensPerSPerRequest.p50).toBeGreaterThan(80);
      expect(l.outputTokensPerSPerRequest.p50).toBeLessThan(260);
    }
    expect(bench.levels[1]?.outputTokensPerS).toBeGreaterThan((bench.levels[0]?.outputTokensPerS ?? 0) * 2.5); // 4-way concurrency scales
    const runs = JSON.parse((await runCli(["runs", "-c", config, "--json"])).stdout) as { kind: string; status: string }[];
    expect(runs[0]).toMatchObject({ kind: "bench", status: "completed" });

    const c = await runCli(["cost", "sim", "-c", config, "--bench", bench.runId, "--compare", "api", "--requests-per-month", "100000", "--json"]);
    expect(c.code, c.stderr).toBe(0);
    const cost = JSON.parse(c.stdout) as {
      plannedLevel: { concurrency: number };
      options: { name: string; kind: string; monthlyUsd: number; gpus?: number }[];
      breakEven: { vs: string; requestsPerMonth: number | null }[];
    };
    expect(cost.plannedLevel.concurrency).toBe(4);
    const self = cost.options.find((x) => x.kind === "self-hosted");
    expect(self?.monthlyUsd).toBeCloseTo(2 * HOURS_PER_MONTH, 6);
    expect(cost.options.find((x) => x.name === "api")?.monthlyUsd).toBeCloseTo((100_000 * (800 * 1 + 200 * 4)) / 1e6, 6);
    expect(cost.breakEven[0]?.vs).toBe("api");

    const wrong = await runCli(["cost", "api", "-c", config, "--bench", bench.runId, "--gpu", "H100"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/measured "sim", not "api"/);
  });
});

describe("cost: does the model fit on the GPUs", () => {
  it("reads parameters and precision from the name and compares weights with GPU memory", async () => {
    const { checkFit, paramsFromName, bytesPerParam } = await import("../../src/economics/fit.js");
    expect(paramsFromName("Qwen/Qwen3-235B-A22B")).toBe(235e9);
    expect(paramsFromName("qwen2.5-0.5b-instruct")).toBe(0.5e9);
    expect(paramsFromName("gpt-4o")).toBeUndefined();
    expect(bytesPerParam("Qwen3-235B-A22B-FP8")).toBe(1);
    expect(bytesPerParam("Llama-3.1-70B-Instruct-AWQ")).toBe(0.5);
    expect(checkFit("Qwen/Qwen3-235B-A22B", "H100", 1)).toMatchObject({ weightsGb: 470, memoryGb: 80, fits: false });
    expect(checkFit("Qwen/Qwen3-235B-A22B", "H100", 8)).toMatchObject({ fits: true });
    expect(checkFit("Qwen/Qwen3-235B-A22B", "H100", 1)?.message).toMatch(/needs at least 7 such GPUs/);
    expect(checkFit("Qwen3-8B", "L4", 1)).toMatchObject({ weightsGb: 16, fits: true });
    expect(checkFit("gpt-4o", "H100", 1)).toBeUndefined(); // no parameter count in the name: not judged
  });
});

describe("weightbridge cost warns when the model cannot fit", () => {
  it("235B on one 80 GB GPU: a warning and memoryFit.fits = false in the JSON", async () => {
    const sim = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    try {
      const dir = tempDir();
      writeFiles(dir, {
        "weightbridge.yaml": `models:\n  - id: big\n    provider: openai-compatible\n    baseUrl: ${sim.baseUrl}\n    model: Qwen/Qwen3-235B-A22B\nsuites: [s.yaml]\n`,
        "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
      });
      const config = join(dir, "weightbridge.yaml");
      const b = await runCli(["bench", "big", "-c", config, "--concurrency", "1", "--requests", "3", "--input-tokens", "8", "--output-tokens", "4", "--json"]);
      const runId = (JSON.parse(b.stdout) as { runId: string }).runId;
      const c = await runCli(["cost", "big", "-c", config, "--bench", runId, "--gpu", "H100", "--gpus", "1", "--json"]);
      expect(c.code).toBe(0);
      expect(c.stderr).toMatch(/warning: Qwen\/Qwen3-235B-A22B needs ~470 GB for its weights alone, plus KV cache; 1x H100 has 80 GB/);
      expect((JSON.parse(c.stdout) as { memoryFit: unknown }).memoryFit).toEqual({ weightsGb: 470, memoryGb: 80, fits: false });
      const eight = await runCli(["cost", "big", "-c", config, "--bench", runId, "--gpu", "H100", "--gpus", "8", "--json"]);
      expect(eight.stderr).not.toMatch(/warning/);
    } finally {
      await sim.close();
    }
  });
});
