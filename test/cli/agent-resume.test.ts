import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { loadTurns } from "../../src/store/turns.js";
import { startAgentUpstream } from "../support/agent-upstream.js";
import { killWhen, newestRun, runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";

type Upstream = Awaited<ReturnType<typeof startAgentUpstream>>;
const open: Upstream[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

const N = 40;
function suite(): string {
  const lines = [
    "name: orders",
    "tools:",
    "  - { type: function, function: { name: get_order_status, parameters: { type: object, properties: { order_id: { type: string } } } } }",
    "  - { type: function, function: { name: get_customer, parameters: { type: object, properties: { order_id: { type: string } } } } }",
    'prompt: "Where is order {{i}}?"',
    "cases:",
  ];
  for (let i = 0; i < N; i++)
    lines.push(
      `  - vars: { i: ${i} }`,
      `    agent: { mocks: { get_order_status: { when: { order_id: "${i}" }, result: "shipped-${i}" }, get_customer: { result: "Ada" } } }`,
      `    expect: [ { type: tool-sequence, calls: [get_order_status, get_customer], allowExtra: false }, { type: contains, value: "shipped-${i}" } ]`,
    );
  return `${lines.join("\n")}\n`;
}

/** A request is identified by its case (the order in the first user message) and its turn (assistant messages already in it). */
function requestKeys(up: Upstream): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of up.bodies()) {
    const order = /\d+/.exec(b.messages.find((m) => m.role === "user")?.content ?? "")?.[0];
    const key = `${order}/${b.messages.filter((m) => m.role === "assistant").length}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

it("after SIGKILL in the middle of agent conversations, --resume sends no answered turn again", async () => {
  const up = await startAgentUpstream({ mode: "two-step", latencyMs: 30 });
  open.push(up);
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": suite(),
    "weightbridge.yaml": `models:\n  - { id: m, provider: openai-compatible, baseUrl: ${up.baseUrl}, model: x, concurrency: 6 }\nsuites: [suite.yaml]\n`,
  });
  const config = join(dir, "weightbridge.yaml");
  let killedAt = 0;
  const r1 = await runCli(["eval", "-c", config, "--no-cache", "--json"], {
    onSpawn: killWhen(
      () => up.received.length >= 50,
      "SIGKILL",
      () => {
        killedAt = up.received.length;
      },
    ),
  });
  expect(r1.signal).toBe("SIGKILL");
  const run = await newestRun(config);
  expect(run?.status).toBe("interrupted");
  const runId = run?.runId ?? "";

  const store = await openStore(join(dir, ".weightbridge", "weightbridge.db"));
  const committed = await loadTurns(store.db, runId).finally(() => store.close());
  const answered = [...committed.values()].flat().map((t) => `${t.caseIndex}/${t.turn}`);
  // The kill came in the middle of conversations: some have turns stored but no result yet.
  const partial = [...committed.values()].filter((t) => t.length < 3);
  expect(partial.length).toBeGreaterThan(0);
  expect(answered.length).toBeLessThan(3 * N);

  const r2 = await runCli(["eval", "-c", config, "--no-cache", "--resume", runId, "--json"]);
  expect(r2.code, r2.stderr).toBe(0);
  const summary = JSON.parse(r2.stdout) as { status: string; suites: { models: { n: number; passRate: number; toolCalls: { answers: number } }[] }[] };
  expect(summary.status).toBe("completed");
  expect(summary.suites[0]?.models[0]).toMatchObject({ n: N, passRate: 1, toolCalls: { answers: 3 * N } });

  const counts = requestKeys(up);
  for (const key of answered) expect(counts.get(key), `turn ${key} was answered before the kill`).toBe(1);
  // Every turn was asked; only those in flight at the kill (sent, never answered and stored) were asked twice.
  for (let i = 0; i < N; i++) for (let t = 0; t < 3; t++) expect(counts.get(`${i}/${t}`), `${i}/${t}`).toBeGreaterThanOrEqual(1);
  const total = up.received.length;
  expect(total - 3 * N).toBeLessThanOrEqual(killedAt - answered.length);
}, 60_000);
