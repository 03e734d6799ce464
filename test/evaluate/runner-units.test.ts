/**
 * The runner's units on their own (issue 17): the recorder against a real SQLite store, the model
 * caller against a real 127.0.0.1 upstream that logs what it receives.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { ModelCaller } from "../../src/evaluate/model-call.js";
import { buildPlan } from "../../src/evaluate/plan.js";
import { Recorder } from "../../src/evaluate/recorder.js";
import type { ResultRecord, TurnRecord } from "../../src/records/index.js";
import { createRun, loadResults, loadTurns, openStore, type StoreHandle } from "../../src/store/index.js";
import { startAgentUpstream } from "../support/agent-upstream.js";
import { tempDir, writeFiles } from "../support/project.js";
import { resultRecord } from "../support/result-record.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function store(): Promise<StoreHandle> {
  const s = await openStore(join(tempDir(), "s.db"));
  closers.push(() => s.close());
  await createRun(s.db, { id: "r1", kind: "eval", configPath: "/x", plan: {} });
  return s;
}

const result = (caseIndex: number, runId = "r1"): ResultRecord =>
  resultRecord({ runId, caseIndex, caseId: `c${caseIndex}`, modelId: "m", messages: [{ role: "user", content: "hi" }], costPusd: null, ttftMs: null });
const turn = (t: number): TurnRecord => ({ runId: "r1", suite: "s", caseIndex: 0, modelId: "m", repeat: 0, turn: t, response: { text: `t${t}` }, facts: null });

describe("recorder", () => {
  it("counts a result as finished only once committed, and a turn's promise resolves once it is stored", async () => {
    const s = await store();
    const progress: number[] = [];
    const keep: ResultRecord[] = [];
    const rec = new Recorder(s, 3, 1, keep, (done) => progress.push(done));
    expect(progress).toEqual([1]);
    await rec.turn(turn(0));
    expect([...(await loadTurns(s.db, "r1")).values()][0]?.map((t) => t.response)).toEqual([{ text: "t0" }]);
    rec.result(result(0));
    rec.result(result(1));
    expect(rec.finished).toBe(1); // not yet committed
    await rec.drain();
    expect(rec.finished).toBe(3);
    expect(progress).toEqual([1, 2, 3]);
    expect(keep.map((r) => r.caseIndex)).toEqual([0, 1]);
    expect((await loadResults(s.db, "r1")).length).toBe(2);
    expect(rec.fatal).toBeUndefined();
  });

  it("keeps the first commit failure as fatal and counts nothing it could not store", async () => {
    const s = await store();
    const rec = new Recorder(s, 2, 0);
    rec.result(result(0, "no-such-run")); // the foreign key to runs refuses it
    await rec.drain();
    expect(rec.fatal).toBeInstanceOf(Error);
    expect(rec.finished).toBe(0);
  });
});

describe("model caller", () => {
  async function setup() {
    const up = await startAgentUpstream();
    closers.push(up.close);
    const dir = tempDir();
    writeFiles(dir, {
      "suite.yaml":
        'name: s\ntools:\n  - { type: function, function: { name: get_order_status } }\nprompt: "Where is order {{i}}?"\ncases:\n  - vars: { i: 7 }\n    expect: { type: tool-call, name: get_order_status }\n',
      "weightbridge.yaml": `models:\n  - { id: m, provider: openai-compatible, baseUrl: ${up.baseUrl}, model: x }\nsuites: [suite.yaml]\n`,
    });
    const plan = buildPlan(loadProject(join(dir, "weightbridge.yaml")));
    const s = await store();
    const caller = new ModelCaller({ plan, store: s });
    closers.push(() => caller.close());
    return { up, plan, s, caller, suite: plan.suites[0], model: plan.models[0]?.config };
  }

  it("sends the suite's tools and returns the calls; the cache key covers tools and the whole message list", async () => {
    const { up, caller, suite, model } = await setup();
    if (!suite || !model) throw new Error("no plan");
    const messages = suite.cases[0]?.messages ?? [];
    const params = caller.paramsFor(suite, model);
    const r = await caller.call(model, messages, params, "", { tools: suite.tools ?? [] });
    expect(r.res.toolCalls).toEqual([{ id: "c0a", name: "get_order_status", arguments: '{"order_id":"7"}' }]);
    expect(up.bodies()[0]?.tools).toEqual(suite.tools);
    const keyWith = (m: typeof messages, tools: typeof suite.tools) => caller.cacheKey(model, m, params, "", tools);
    const key = (m: typeof messages) => keyWith(m, suite.tools);
    expect(key(messages)).not.toBe(keyWith(messages, undefined));
    expect(key(messages)).not.toBe(keyWith(messages, [{ type: "function", function: { name: "get_order_status", description: "other" } }]));
    const after = [
      ...messages,
      { role: "assistant" as const, content: "", toolCalls: r.res.toolCalls },
      { role: "tool" as const, content: "x", toolCallId: "c0a" },
    ];
    expect(key(after)).not.toBe(key([...after.slice(0, -1), { role: "tool" as const, content: "y", toolCallId: "c0a" }]));
    // A plain request's key is the one it always had: tools join the key only when offered.
    expect(keyWith(messages, [])).toBe(keyWith(messages, undefined));
  });

  it("answers from the cache without a request: prefetched keys, and later turns looked up one by one", async () => {
    const { up, s, caller, suite, model } = await setup();
    if (!suite || !model) throw new Error("no plan");
    const messages = suite.cases[0]?.messages ?? [];
    const params = caller.paramsFor(suite, model);
    const fresh = await caller.call(model, messages, params, "", { tools: suite.tools ?? [] });
    const entry = fresh.cacheEntry;
    if (!entry) throw new Error("no cache entry");
    await s.writeBatch([], [entry]);
    expect(up.received).toHaveLength(1);
    const lookedUp = await caller.call(model, messages, params, "", { tools: suite.tools ?? [], lookup: true });
    expect(lookedUp).toMatchObject({ cached: true, attempts: 0, res: { toolCalls: fresh.res.toolCalls } });
    const notLookedUp = await caller.call(model, messages, params, "", { tools: suite.tools ?? [] });
    expect(notLookedUp.cached).toBe(false);
    expect(up.received).toHaveLength(2);
    await caller.prefetch([entry.key]);
    expect((await caller.call(model, messages, params, "", { tools: suite.tools ?? [] })).cached).toBe(true);
    expect(up.received).toHaveLength(2);
  });
});
