import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { buildPlan } from "../../src/evaluate/plan.js";
import { evaluate } from "../../src/evaluate/session.js";
import { estimateCost } from "../../src/evaluate/validate.js";
import { openStore } from "../../src/store/open.js";
import { loadTurns } from "../../src/store/turns.js";
import { type AgentMode, startAgentUpstream } from "../support/agent-upstream.js";
import { tempDir, writeFiles } from "../support/project.js";

type Upstream = Awaited<ReturnType<typeof startAgentUpstream>>;
const open: Upstream[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

const TOOLS = `tools:
  - type: function
    function: { name: get_order_status, parameters: { type: object, properties: { order_id: { type: string } }, required: [order_id] } }
  - type: function
    function: { name: get_customer, parameters: { type: object, properties: { order_id: { type: string } }, required: [order_id] } }
`;

/** n agent cases: "Where is order i?", mocked for orders 0..n-2 (the last order has no mock: its call gets an error result). */
function agentSuite(n: number): string {
  const mocks = Array.from({ length: n - 1 }, (_, i) => `{ when: { order_id: "${i}" }, result: '{"status":"shipped-${i}"}' }`).join(", ");
  const lines = ["name: orders", 'system: "Use the tools."', TOOLS, 'prompt: "Where is order {{i}}?"', "cases:"];
  for (let i = 0; i < n; i++)
    lines.push(
      `  - vars: { i: ${i} }`,
      `    agent: { maxTurns: 4, mocks: { get_order_status: [${mocks}], get_customer: { result: { name: "Ada" } } } }`,
      `    expect: [ { type: tool-sequence, calls: [{ name: get_order_status, arguments: { order_id: "${i}" } }] }, { type: contains, value: "shipped-${i}" } ]`,
    );
  return `${lines.join("\n")}\n`;
}

async function project(suite: string, opts: { mode?: AgentMode; stream?: boolean } = {}) {
  const up = await startAgentUpstream(opts);
  open.push(up);
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": suite,
    "weightbridge.yaml": `models:\n  - { id: m, provider: openai-compatible, baseUrl: ${up.baseUrl}, model: x, price: { input: 1, output: 2 } }\nsuites: [suite.yaml]\n`,
  });
  return { up, config: join(dir, "weightbridge.yaml") };
}

async function turnsOf(storeLocation: string, runId: string) {
  const store = await openStore(storeLocation);
  try {
    return await loadTurns(store.db, runId);
  } finally {
    await store.close();
  }
}

describe("agent conversations", () => {
  it("plays the tools from the mocks, sends every result back, and sums tokens and cost over the turns", async () => {
    const { up, config } = await project(agentSuite(5));
    const r = await evaluate({ config });
    expect(r.outcome).toMatchObject({ status: "completed", total: 5, errors: 0 });
    // Two requests per case: the call, then the answer after the mocked result.
    expect(up.received).toHaveLength(10);
    const second = up.bodies().filter((b) => b.messages.some((m) => m.role === "tool"));
    expect(second).toHaveLength(5);
    for (const b of second) {
      const order = /\d+/.exec(b.messages.find((m) => m.role === "user")?.content ?? "")?.[0];
      const [assistant, tool] = b.messages.slice(-2);
      expect(assistant?.tool_calls?.[0]?.function).toEqual({ name: "get_order_status", arguments: `{"order_id":"${order}"}` });
      expect(tool?.tool_call_id).toBe(assistant?.tool_calls?.[0]?.id);
      if (order === "4") expect(JSON.parse(tool?.content ?? "")).toEqual({ error: 'get_order_status: no result for arguments {"order_id":"4"}' });
      else expect(tool?.content).toBe(`{"status":"shipped-${order}"}`);
    }
    const rows = r.results;
    expect(rows.map((x) => x.passed)).toEqual([true, true, true, true, false]);
    for (const x of rows) {
      expect([x.inputTokens, x.outputTokens]).toEqual([20, 10]);
      // 20 tokens at $1/M + 10 at $2/M = 40e-6 USD = 40e6 pico-USD.
      expect(x.costPusd).toBe(40_000_000);
    }
    const turns = await turnsOf(r.storeLocation, r.runId);
    expect([...turns.values()].map((t) => t.length)).toEqual([2, 2, 2, 2, 2]);
    expect(r.summary.suites[0]?.models[0]?.toolCalls).toMatchObject({
      answers: 10,
      answersWithCall: 5,
      wellFormedAnswers: 5,
      calls: 5,
      callsValid: 5,
      asTextAnswers: 0,
    });
  });

  it("reads calls streamed as deltas and parallel calls, answering each call by its id in order", async () => {
    const { up, config } = await project(agentSuite(3), { mode: "parallel", stream: true });
    const r = await evaluate({ config });
    expect(r.outcome.errors).toBe(0);
    expect(r.results.map((x) => x.passed)).toEqual([true, true, false]);
    const second = up.bodies().filter((b) => b.messages.some((m) => m.role === "tool"));
    expect(second).toHaveLength(3);
    for (const b of second) {
      const tools = b.messages.filter((m) => m.role === "tool");
      expect(tools.map((m) => m.tool_call_id)).toEqual(["c0a", "c0b"]);
      expect(tools[1]?.content).toBe('{"name":"Ada"}');
    }
    expect(r.summary.suites[0]?.models[0]?.toolCalls).toMatchObject({ answersWithCall: 3, calls: 6, callsValid: 6 });
  });

  it("fails a call written as text, says which convention, and hints at the server's tool parser", async () => {
    const { up, config } = await project(agentSuite(3), { mode: "text-call" });
    const r = await evaluate({ config });
    expect(up.received).toHaveLength(3); // no call through the API: the conversation ends after one answer
    for (const x of r.results) {
      expect(x.passed).toBe(false);
      expect(x.grades[0]?.detail).toMatchObject({ textCall: "hermes", textCallName: "get_order_status" });
    }
    const f = r.summary.suites[0]?.models[0]?.toolCalls;
    expect(f).toMatchObject({ answers: 3, answersWithCall: 0, asTextAnswers: 3, asText: 1, asTextFormats: { hermes: 3 } });
    expect(f?.hint).toMatch(/--enable-auto-tool-choice --tool-call-parser hermes/);
  });

  it("gives arguments that are not JSON an error result and counts them against fidelity", async () => {
    const { up, config } = await project(agentSuite(2), { mode: "bad-json", stream: true });
    const r = await evaluate({ config });
    const tool = up
      .bodies()
      .flatMap((b) => b.messages)
      .find((m) => m.role === "tool");
    expect(JSON.parse(tool?.content ?? "")).toEqual({ error: "get_order_status: arguments are not valid JSON" });
    expect(r.results.every((x) => !x.passed)).toBe(true);
    expect(r.summary.suites[0]?.models[0]?.toolCalls).toMatchObject({ calls: 2, callsJson: 0, argumentsJson: 0, wellFormed: 0, argumentsValid: 0 });
  });

  it("sends scripted user turns after each answer, and grades the final text", async () => {
    const suite = `name: chat\nprompt: "Hello {{i}}"\ncases:\n  - vars: { i: 1 }\n    turns: ["and then?", "thanks"]\n    expect: { type: equals, value: "reply 3" }\n`;
    const { up, config } = await project(suite);
    const r = await evaluate({ config });
    expect(r.results[0]).toMatchObject({ passed: true, output: "reply 3", inputTokens: 30, outputTokens: 15 });
    const last = up.bodies()[2]?.messages.map((m) => `${m.role}:${m.content}`);
    expect(last).toEqual(["user:Hello 1", "assistant:reply 1", "user:and then?", "assistant:reply 2", "user:thanks"]);
  });

  it("answers a second run from the cache, every turn included; other tools are another key", async () => {
    const { up, config } = await project(agentSuite(3));
    await evaluate({ config });
    expect(up.received).toHaveLength(6);
    const again = await evaluate({ config });
    expect(again.outcome).toMatchObject({ cached: 3, requested: 0 });
    expect(up.received).toHaveLength(6);
    expect(again.results.map((x) => x.passed)).toEqual([true, true, false]);
    // The same messages with a tool described differently are not the same request.
    const dir = join(config, "..");
    writeFiles(dir, { "suite.yaml": agentSuite(3).replace("name: get_customer,", "name: get_customer, description: other,") });
    await evaluate({ config });
    expect(up.received).toHaveLength(12);
  });

  it("estimates a conversation's cost as every answer it may take (validate's upper bound)", async () => {
    const { up, config } = await project(agentSuite(5));
    const [est] = estimateCost(buildPlan(loadProject(config)));
    // 5 cases × maxTurns 4, each answer up to 256 tokens.
    expect(est).toMatchObject({ requests: 20, maxOutputTokens: 20 * 256 });
    // The bound holds against what a run really sends (tokens as chars / 4 of each request's messages and tools).
    await evaluate({ config });
    const sent = up.bodies().reduce((a, b) => a + Math.ceil(JSON.stringify([b.messages, b.tools]).length / 4), 0);
    expect(est?.inputTokens).toBeGreaterThan(sent);
  });
});
