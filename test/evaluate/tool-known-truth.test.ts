/**
 * Known truth: two simulated models of known tool-call accuracy, with every kind of error. The eval
 * (streamed answers, tool-call deltas, graders, fidelity, paired comparison) must equal what this test
 * computes on its own from the same stubs' answers, fetched here as plain JSON and judged with
 * nothing from src/ but the stub.
 */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { evaluate } from "../../src/evaluate/session.js";
import { tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const N = 200;
const TOOLS = [
  {
    type: "function",
    function: { name: "get_order_status", parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] } },
  },
  {
    type: "function",
    function: {
      name: "issue_refund",
      parameters: { type: "object", properties: { order_id: { type: "string" }, amount: { type: "number" } }, required: ["order_id", "amount"] },
    },
  },
];

function suite(): string {
  const lines = ["name: tools", `tools: ${JSON.stringify(TOOLS)}`, 'prompt: "Where is order {{i}}?"', "cases:"];
  for (let i = 0; i < N; i++) lines.push(`  - vars: { i: ${i} }`, `    expect: { type: tool-call, name: get_order_status, arguments: { order_id: "${i}" } }`);
  return `${lines.join("\n")}\n`;
}

type WireCall = { function: { name: string; arguments: string } };

/** The stub's answer to case i, judged independently. */
async function judge(sim: Simulator, i: number) {
  const res = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "x", messages: [{ role: "user", content: `Where is order ${i}?` }], tools: TOOLS }),
  });
  const message = ((await res.json()) as { choices: { message: { content: string | null; tool_calls?: WireCall[] } }[] }).choices[0]?.message;
  const calls = message?.tool_calls ?? [];
  const parsed = calls.map((c) => {
    try {
      const v = JSON.parse(c.function.arguments) as unknown;
      return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  });
  const known = (c: WireCall) => c.function.name === "get_order_status" || c.function.name === "issue_refund";
  const valid = (c: WireCall, a: Record<string, unknown> | undefined) =>
    a !== undefined &&
    typeof a.order_id === "string" &&
    (c.function.name === "get_order_status" || (c.function.name === "issue_refund" && typeof a.amount === "number"));
  return {
    pass: calls.some((c, k) => c.function.name === "get_order_status" && parsed[k]?.order_id === String(i)),
    withCall: calls.length > 0,
    wellFormed: calls.length > 0 && calls.every((c, k) => known(c) && parsed[k] !== undefined),
    calls: calls.length,
    json: parsed.filter((a) => a !== undefined).length,
    valid: calls.filter((c, k) => known(c) && valid(c, parsed[k])).length,
    asText: calls.length === 0 && (message?.content ?? "").includes("<tool_call>"),
  };
}

it("scores, fidelity and the paired comparison equal what is computed from the stubs' answers", async () => {
  const dir = tempDir();
  writeFiles(dir, { "suite.yaml": suite(), "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]) });
  const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
  const toolErrors = { wrongTool: 1, wrongArgument: 1, asText: 1, noCall: 1, badJson: 1 };
  const a = await startStub({ behaviour: behaviourFor(suites, 0.9, 1, { toolErrors }) });
  const b = await startStub({ behaviour: behaviourFor(suites, 0.6, 2, { toolErrors }) });
  open.push(a, b);
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig(a.baseUrl, b.baseUrl, ["suite.yaml"]) });
  const r = await evaluate({ config: join(dir, "weightbridge.yaml") });
  expect(r.outcome.errors).toBe(0);

  const truthA = await Promise.all(Array.from({ length: N }, (_, i) => judge(a, i)));
  const truthB = await Promise.all(Array.from({ length: N }, (_, i) => judge(b, i)));
  // Every kind of error happened (the stub's mix is not degenerate).
  expect(truthB.filter((t) => t.asText).length).toBeGreaterThan(0);
  expect(truthB.filter((t) => !t.withCall && !t.asText).length).toBeGreaterThan(0);
  expect(truthB.filter((t) => t.calls > t.json).length).toBeGreaterThan(0);
  expect(truthB.filter((t) => t.withCall && !t.pass && t.json === t.calls).length).toBeGreaterThan(0);

  const [sa, sb] = r.summary.suites[0]?.models ?? [];
  for (const [s, truth] of [
    [sa, truthA],
    [sb, truthB],
  ] as const) {
    const passes = truth.filter((t) => t.pass).length;
    expect(s?.score.mean).toBe(Number((passes / N).toFixed(6)));
    const withCall = truth.filter((t) => t.withCall).length;
    const calls = truth.reduce((x, t) => x + t.calls, 0);
    expect(s?.toolCalls).toMatchObject({
      answers: N,
      answersWithCall: withCall,
      wellFormedAnswers: truth.filter((t) => t.wellFormed).length,
      calls,
      callsJson: truth.reduce((x, t) => x + t.json, 0),
      callsValid: truth.reduce((x, t) => x + t.valid, 0),
      asTextAnswers: truth.filter((t) => t.asText).length,
    });
  }
  const pairs = truthA.map((t, i) => [t.pass, truthB[i]?.pass] as const);
  expect(sb?.vsBaseline?.table).toEqual({
    both: pairs.filter(([x, y]) => x && y).length,
    candOnly: pairs.filter(([x, y]) => !x && y).length,
    baseOnly: pairs.filter(([x, y]) => x && !y).length,
    neither: pairs.filter(([x, y]) => !x && !y).length,
  });
  expect(sb?.vsBaseline?.diff).toBe(Number(((truthB.filter((t) => t.pass).length - truthA.filter((t) => t.pass).length) / N).toFixed(6)));
  // The accuracies are what the stubs were configured with, within sampling error of 200 cases.
  expect(truthA.filter((t) => t.pass).length / N).toBeGreaterThan(0.84);
  expect(truthB.filter((t) => t.pass).length / N).toBeLessThan(0.75);
}, 60_000);
