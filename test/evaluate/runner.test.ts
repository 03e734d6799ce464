import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { TokenBucket } from "../../src/evaluate/limiter.js";
import { backoffDelay, DEFAULT_RETRY } from "../../src/evaluate/retry.js";
import { evaluate } from "../../src/evaluate/session.js";
import { openStore } from "../../src/store/open.js";
import { loadResults } from "../../src/store/results.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

type StubOptions = Omit<Parameters<typeof startStub>[0], "behaviour">;

async function setup(n: number, a: StubOptions, b: StubOptions, extra = "", accuracyA = 1, accuracyB = 0.7) {
  const dir = tempDir();
  writeFiles(dir, { "suite.yaml": labelSuite("s", n) });
  // The simulators script their answers from the same suite file the config names.
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"], extra) });
  const project = loadProject(join(dir, "weightbridge.yaml"));
  const simA = await startStub({ behaviour: behaviourFor(project.suites, accuracyA, 1), ...a });
  const simB = await startStub({ behaviour: behaviourFor(project.suites, accuracyB, 2), ...b });
  open.push(simA, simB);
  const config = join(dir, "weightbridge.yaml");
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig(simA.baseUrl, simB.baseUrl, ["suite.yaml"], extra) });
  return { dir, config, simA, simB };
}

describe("evaluation runner", () => {
  it("runs every case on every model, stores each request, and summarises exactly", async () => {
    const { config, simA, simB } = await setup(60, {}, {});
    const r = await evaluate({ config });
    expect(r.outcome).toMatchObject({ status: "completed", total: 120, requested: 120, errors: 0 });
    expect(simA.stats.chat).toBe(60);
    expect(simB.stats.chat).toBe(60);
    const suite = r.summary.suites[0];
    const alpha = suite?.models.find((m) => m.id === "alpha");
    const beta = suite?.models.find((m) => m.id === "beta");
    expect(alpha?.score.mean).toBe(1);
    expect(alpha?.vsBaseline).toBeUndefined();
    const store = await openStore(r.storeLocation);
    try {
      const rows = await loadResults(store.db, r.runId);
      expect(rows).toHaveLength(120);
      const betaRows = rows.filter((x) => x.modelId === "beta");
      // Score = share of passed rows, computed independently here.
      expect(beta?.score.mean).toBeCloseTo(betaRows.filter((x) => x.passed).length / 60, 6);
      expect(beta?.score.mean).toBeGreaterThan(0.5);
      expect(beta?.score.mean).toBeLessThan(0.9);
      // Cost is exact: tokens × price (USD per 1M).
      const inTok = betaRows.reduce((a, x) => a + x.inputTokens, 0);
      const outTok = betaRows.reduce((a, x) => a + x.outputTokens, 0);
      expect(beta?.cost.inputTokens).toBe(inTok);
      expect(beta?.cost.outputTokens).toBe(outTok);
      expect(beta?.cost.usd).toBeCloseTo((inTok * 0.1 + outTok * 0.4) / 1e6, 12);
      // Paired comparison: beta failed where alpha passed, never the reverse.
      const fails = betaRows.filter((x) => !x.passed).length;
      expect(beta?.vsBaseline?.diff).toBeCloseTo(-fails / 60, 6);
      expect(beta?.vsBaseline?.test).toBe("mcnemar-exact");
      expect(beta?.vsBaseline?.qualityRatio).toBeCloseTo(1 - fails / 60, 6);
      expect(beta?.vsBaseline?.sentence).toMatch(/^beta scores \d+% of alpha \(95% CI \d+–\d+%\), p [<=]/);
      const alphaRows = rows.filter((x) => x.modelId === "alpha");
      const alphaUsd = alphaRows.reduce((a, x) => a + x.inputTokens * 2.5 + x.outputTokens * 10, 0) / 1e6;
      expect(alpha?.cost.usd).toBeCloseTo(alphaUsd, 12);
      expect(beta?.vsBaseline?.costRatio).toBeCloseTo((inTok * 0.1 + outTok * 0.4) / 1e6 / alphaUsd, 5);
    } finally {
      await store.close();
    }
  });

  it("retries 429s honouring Retry-After and records nothing as an error", async () => {
    const { config, simB } = await setup(40, {}, { rateLimitRate: 0.3, retryAfterSeconds: 0 });
    const retries: number[] = [];
    const r = await evaluate({ config, onRetry: (_id, e) => retries.push(e.status ?? 0) });
    expect(simB.stats.rateLimited).toBeGreaterThan(0);
    expect(retries.length).toBe(simB.stats.rateLimited);
    expect(retries.every((s) => s === 429)).toBe(true);
    expect(r.outcome.errors).toBe(0);
    expect(r.summary.suites[0]?.models.find((m) => m.id === "beta")?.n).toBe(40);
  });

  it("records exhausted failures per case, scores them 0 and counts them", async () => {
    const { config } = await setup(10, {}, { errorRate: 1 }, "defaults: { retries: 1 }");
    const r = await evaluate({ config });
    expect(r.outcome.status).toBe("completed");
    const beta = r.summary.suites[0]?.models.find((m) => m.id === "beta");
    expect(beta).toMatchObject({ n: 10, errors: 10, score: { mean: 0 } });
    const store = await openStore(r.storeLocation);
    try {
      const rows = (await loadResults(store.db, r.runId)).filter((x) => x.modelId === "beta");
      expect(rows.every((x) => x.error === "HTTP 500: simulated server error" && x.attempts === 2 && x.score === 0)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("answers a second run from the cache, and --no-cache asks again", async () => {
    const { config, simA } = await setup(20, {}, {});
    await evaluate({ config });
    expect(simA.stats.chat).toBe(20);
    const second = await evaluate({ config });
    expect(simA.stats.chat).toBe(20);
    expect(second.outcome).toMatchObject({ cached: 40, requested: 0 });
    await evaluate({ config, noCache: true });
    expect(simA.stats.chat).toBe(40);
  });

  it("asks each case K times with --repeat and scores the per-case mean", async () => {
    const { config, simA } = await setup(10, {}, {});
    const r = await evaluate({ config, repeat: 3 });
    expect(simA.stats.chat).toBe(30);
    const alpha = r.summary.suites[0]?.models.find((m) => m.id === "alpha");
    expect(alpha).toMatchObject({ n: 10, requests: 30 });
  });

  it("keeps per-model and global concurrency limits (seen from the server)", async () => {
    const { config, simA } = await setup(24, { latencyMs: 40 }, { latencyMs: 40 }, "");
    await evaluate({ config, noCache: true });
    expect(simA.stats.maxInFlight).toBeLessThanOrEqual(8); // model concurrency in the config
    expect(simA.stats.maxInFlight).toBeGreaterThanOrEqual(4);
  });

  it("caps requests in flight across models with --concurrency", async () => {
    const { config, simA, simB } = await setup(16, { latencyMs: 30 }, { latencyMs: 30 });
    await evaluate({ config, concurrency: 2 });
    expect(simA.stats.maxInFlight + simB.stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(Math.max(simA.stats.maxInFlight, simB.stats.maxInFlight)).toBeLessThanOrEqual(2);
  });
});

describe("limits and backoff", () => {
  it("a token bucket paces requests per minute", async () => {
    const b = new TokenBucket(600, 5); // 10 per second, burst 5
    const t0 = performance.now();
    for (let i = 0; i < 15; i++) await b.take(1);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
  });
  it("backoff grows exponentially with jitter and honours Retry-After", () => {
    expect(backoffDelay(1, DEFAULT_RETRY, 1234)).toBe(1234);
    expect(backoffDelay(1, DEFAULT_RETRY, undefined, () => 0)).toBe(250);
    expect(backoffDelay(3, DEFAULT_RETRY, undefined, () => 1)).toBe(2000);
    expect(backoffDelay(20, DEFAULT_RETRY, undefined, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});
