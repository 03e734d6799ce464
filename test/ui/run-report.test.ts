/**
 * The run page's Report built one model at a time (src/ui/server/run-report.ts) must equal
 * src/report's buildReport — the `weightbridge report` numbers — on real stores: runs written by
 * real `eval`/`redteam` commands against stub servers, and a run written through the store with
 * what those do not produce together (repeats, case groups, non-binary scores, errors, ranking
 * grades, an unpriced model, two suites). Then the stored Report: one row read, invalidated when the
 * run changes.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultRecord } from "../../src/records/index.js";
import { buildReport, type Report } from "../../src/report/index.js";
import { createRun, finishRun, openStore, type StoreHandle, saveResults } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { buildRunReport } from "../../src/ui/server/run-report.js";
import { packagePath } from "../../src/util/package-root.js";
import { tempDir } from "../support/project.js";
import { buildUiFixture, type UiFixture } from "./fixture.js";

/** The record's hashedAt is the time of the build (the run's plan has no record here). */
const comparable = (r: Report) => ({ ...r, record: { ...r.record, hashedAt: "" } });

describe("run page Report, one model at a time, vs buildReport", () => {
  let fx: UiFixture;
  let store: StoreHandle;
  beforeAll(async () => {
    fx = await buildUiFixture(300);
    store = await openStore(fx.db);
  }, 240_000);
  afterAll(async () => {
    await store?.close();
  });

  it("equals buildReport on a real eval run of 300 cases × 3 models (label grades, changed cases with texts)", async () => {
    const fast = await buildRunReport(store, fx.evalA);
    const full = await buildReport(store, fx.evalA);
    expect(fast.completion.done).toBe(900);
    expect(fast.changedCases.length).toBeGreaterThan(0);
    expect(fast.suites[0]?.models[1]?.metrics?.macroF1).toBeTypeOf("number");
    expect(JSON.parse(JSON.stringify(comparable(fast)))).toEqual(JSON.parse(JSON.stringify(comparable(full))));
  });
});

function plan() {
  const suite = (name: string, n: number) => ({
    name,
    file: `${name}.yaml`,
    params: {},
    cases: Array.from({ length: n }, (_, i) => ({
      index: i,
      id: `${name}#${i + 1}`,
      messages: [{ role: "user", content: `${name} question ${i}` }],
      expects: [{ type: "ranking", value: ["a"] }],
      vars: {},
      ...(name === "grouped" ? { group: `g${i % 17}` } : {}),
    })),
  });
  return {
    version: 1,
    suites: [suite("rank", 120), suite("grouped", 90)],
    models: [
      { config: { id: "base", provider: "openai-compatible", model: "b" }, price: { input: 2, output: 8, source: "test" } },
      { config: { id: "cand", provider: "openai-compatible", model: "c" }, price: { input: 0.2, output: 0.8, source: "test" } },
      { config: { id: "free", provider: "openai-compatible", model: "f" }, price: null },
    ],
    helpers: [],
    baseline: "base",
    repeat: 2,
    defaults: { params: {} },
  };
}

describe("run page Report on repeats, groups, non-binary scores and errors", () => {
  let store: StoreHandle;
  const runId = "synthetic-1";
  beforeAll(async () => {
    store = await openStore(join(tempDir("wb-ui-rr-"), "s.sqlite"));
    const p = plan();
    await createRun(store.db, { id: runId, kind: "eval", configPath: "/nowhere/weightbridge.yaml", plan: p });
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const rows: ResultRecord[] = [];
    for (const s of p.suites)
      for (const c of s.cases)
        for (const [mi, m] of p.models.entries())
          for (let repeat = 0; repeat < 2; repeat++) {
            const error = rnd() < 0.02 ? `HTTP 503 from ${m.config.id}` : null;
            const ndcg = error ? 0 : Math.round(rnd() * (1 - mi * 0.1) * 1000) / 1000;
            rows.push({
              runId,
              suite: s.name,
              caseIndex: c.index,
              caseId: c.id,
              modelId: m.config.id,
              repeat,
              messages: c.messages as ResultRecord["messages"],
              output: error ? null : `answer ${ndcg}`,
              grades: error ? [] : [{ type: "ranking", score: ndcg, pass: ndcg >= 0.5, detail: { ndcg, recall: ndcg > 0.3 ? 1 : 0, mrr: ndcg / 2 } }],
              score: ndcg,
              passed: ndcg >= 0.5,
              inputTokens: 30,
              outputTokens: 7,
              costPusd: m.price ? Math.round(rnd() * 1e7) : null,
              latencyMs: error ? null : 20 + rnd() * 300,
              ttftMs: error ? null : 5 + rnd() * 50,
              error,
              cached: false,
              attempts: error ? 3 : 1,
            });
          }
    await saveResults(store.db, rows);
    await finishRun(store.db, runId, "completed");
    // A red-team run of two of the models: the Report quotes the newest one.
    const rt = { ...p, suites: [{ ...p.suites[0], name: "prompt-injection" }], models: p.models.slice(0, 2), repeat: 1 };
    await createRun(store.db, { id: "rt-1", kind: "redteam", configPath: "/nowhere/redteam.yaml", plan: rt });
    await saveResults(
      store.db,
      rows.filter((r) => r.suite === "rank" && r.repeat === 0 && r.modelId !== "free").map((r) => ({ ...r, runId: "rt-1", suite: "prompt-injection" })),
    );
    await finishRun(store.db, "rt-1", "completed");
  });
  afterAll(async () => {
    await store?.close();
  });

  it("equals buildReport (BCa and cluster intervals, permutation p-values, nDCG, costs, latency quantiles, errors)", async () => {
    const fast = await buildRunReport(store, runId);
    const full = await buildReport(store, runId);
    const rank = fast.suites.find((s) => s.name === "rank");
    expect(rank?.models.find((m) => m.id === "cand")?.vsBaseline?.method).toBe("bca");
    expect(fast.suites.find((s) => s.name === "grouped")?.models.find((m) => m.id === "cand")?.vsBaseline?.method).toBe("cluster-bca");
    expect(rank?.models[0]?.metrics?.ndcg).toBeTypeOf("number");
    expect(fast.redteam?.runId).toBe("rt-1");
    expect(fast.models.find((m) => m.id === "free")?.costUsd).toBeNull();
    expect(fast.models.some((m) => m.firstError !== null)).toBe(true);
    expect(JSON.parse(JSON.stringify(comparable(fast)))).toEqual(JSON.parse(JSON.stringify(comparable(full))));
  }, 60_000);
});

describe("the stored Report", () => {
  it("is read from one row by the next server (so are case totals), and rebuilt when the run changed", async () => {
    const dir = tempDir("wb-ui-rr2-");
    const file = join(dir, "s.sqlite");
    const store = await openStore(file);
    const p = plan();
    await createRun(store.db, { id: "r1", kind: "eval", configPath: "/nowhere/weightbridge.yaml", plan: { ...p, repeat: 1 } });
    const row = (modelId: string, caseIndex: number, passed: boolean): ResultRecord => ({
      runId: "r1",
      suite: "rank",
      caseIndex,
      caseId: `rank#${caseIndex + 1}`,
      modelId,
      repeat: 0,
      messages: [{ role: "user", content: "q" }],
      output: passed ? "a" : "b",
      grades: [],
      score: passed ? 1 : 0,
      passed,
      inputTokens: 1,
      outputTokens: 1,
      costPusd: 1000,
      latencyMs: 10,
      ttftMs: 5,
      error: null,
      cached: false,
      attempts: 1,
    });
    await saveResults(store.db, [row("base", 0, true), row("cand", 0, false), row("free", 0, true), row("base", 1, true), row("cand", 1, true)]);
    await finishRun(store.db, "r1", "completed");
    const serve = async () => {
      const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/runs/r1`;
      const body = (await (await fetch(`${url}?wait=1`)).json()) as { report: Report };
      const cases = (await (await fetch(`${url}/cases?filter=regressions`)).json()) as { total: number };
      await app.close();
      return Object.assign(body.report, { regressionsTotal: cases.total });
    };
    try {
      const first = await serve();
      expect(first.changedCounts.cand).toEqual({ regressions: 1, improvements: 0 });
      // Prove the next server reads the row: mark it, and the mark comes back.
      expect(first.regressionsTotal).toBe(1);
      store.sqlite?.prepare("update run_reports set report_json = json_set(report_json, '$.runId', 'from-the-row') where run_id = 'r1'").run();
      store.sqlite?.prepare("update case_totals set total = 77 where run_id = 'r1'").run();
      const second = await serve();
      expect(second.runId).toBe("from-the-row");
      expect(second.regressionsTotal).toBe(77);
      // The run changes (resumed: one more result, finished again): the stale row is not served.
      await saveResults(store.db, [row("cand", 2, true)]);
      await finishRun(store.db, "r1", "completed");
      const rebuilt = await serve();
      expect(rebuilt.runId).toBe("r1");
      expect(rebuilt.completion.done).toBe(6);
      expect(rebuilt.regressionsTotal).toBe(1);
    } finally {
      await store.close();
    }
  });
});
