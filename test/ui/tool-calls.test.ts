/** The UI's run API carries tool-call fidelity for suites with tools (the run page's "Tool calls" card reads it). */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { evaluate } from "../../src/evaluate/session.js";
import { openStore } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { startAgentUpstream } from "../support/agent-upstream.js";
import { tempDir, writeFiles } from "../support/project.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const SUITE = `name: orders
tools:
  - { type: function, function: { name: get_order_status, parameters: { type: object, properties: { order_id: { type: string } }, required: [order_id] } } }
prompt: "Where is order {{i}}?"
cases:
  - vars: { i: 1 }
    expect: { type: tool-call, name: get_order_status, arguments: { order_id: "1" } }
  - vars: { i: 2 }
    expect: { type: tool-call, name: get_order_status, arguments: { order_id: "2" } }
`;

it("GET /api/v1/runs/:id has toolCalls per model, with and without a baseline", async () => {
  const good = await startAgentUpstream();
  const texty = await startAgentUpstream({ mode: "text-call" });
  closers.push(good.close, texty.close);
  const dir = tempDir();
  const models = `models:\n  - { id: a, provider: openai-compatible, baseUrl: ${good.baseUrl}, model: x }\n  - { id: b, provider: openai-compatible, baseUrl: ${texty.baseUrl}, model: y }\nsuites: [suite.yaml]\n`;
  writeFiles(dir, { "suite.yaml": SUITE, "weightbridge.yaml": models, "with-baseline.yaml": `${models}baseline: a\n` });
  const plain = await evaluate({ config: join(dir, "weightbridge.yaml") });
  const paired = await evaluate({ config: join(dir, "with-baseline.yaml") });
  const store = await openStore(plain.storeLocation);
  closers.push(() => store.close());
  const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  closers.push(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
  type Answer = { summary?: Suites; report?: Suites };
  type Suites = { suites: { models: { id: string; toolCalls?: { answers: number; withCall: number; asText: number; hint?: string } }[] }[] };
  for (const [runId, key] of [
    [plain.runId, "summary"],
    [paired.runId, "report"],
  ] as const) {
    const body = (await (await fetch(`${base}/runs/${runId}`)).json()) as Answer;
    const models = body[key]?.suites[0]?.models ?? [];
    expect(models.map((m) => [m.id, m.toolCalls?.answers, m.toolCalls?.withCall, m.toolCalls?.asText])).toEqual([
      ["a", 2, 1, 0],
      ["b", 2, 0, 1],
    ]);
    expect(models[1]?.toolCalls?.hint).toMatch(/--tool-call-parser hermes/);
  }
  // The case view carries each model's conversation: the calls the API returned, and the text call.
  const one = (await (await fetch(`${base}/runs/${plain.runId}/cases/orders/0`)).json()) as {
    results: { model: string; turns: { text: string; toolCalls: { name: string }[] }[] }[];
  };
  expect(one.results.map((r) => [r.model, r.turns.map((t) => t.toolCalls.map((c) => c.name).join(",") || t.text.slice(0, 11))])).toEqual([
    ["a", ["get_order_status"]],
    ["b", ["<tool_call>"]],
  ]);
});
