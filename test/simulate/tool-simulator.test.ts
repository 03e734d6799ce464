import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSuite } from "../../src/config/suite.js";
import { createOpenAiCompatibleProvider } from "../../src/providers/index.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const TOOLS = [
  { type: "function" as const, function: { name: "lookup", parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } } },
  { type: "function" as const, function: { name: "cancel", parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } } },
];

function suite(n: number, extra = ""): ReturnType<typeof loadSuite> {
  const lines = ["name: t", `tools: ${JSON.stringify(TOOLS)}`, 'prompt: "Look up {{i}}"', "cases:"];
  for (let i = 0; i < n; i++) lines.push(`  - vars: { i: ${i} }`, `    expect: { type: tool-call, name: lookup, arguments: { id: "${i}" } }`);
  const dir = tempDir();
  writeFiles(dir, { "s.yaml": `${lines.join("\n")}\n${extra}` });
  return loadSuite(join(dir, "s.yaml"));
}

async function ask(sim: Simulator, i: number, stream: boolean) {
  const p = createOpenAiCompatibleProvider({ id: "x", baseUrl: sim.baseUrl, model: "m" });
  const body = { messages: [{ role: "user" as const, content: `Look up ${i}` }], params: {}, tools: TOOLS };
  if (stream) return p.chat(body);
  const res = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: false }),
  });
  return (await res.json()) as {
    choices: { message: { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason: string }[];
  };
}

describe("simulated tool use", () => {
  it("answers a right case with the expected call, streamed as deltas or whole, finish_reason tool_calls", async () => {
    const s = suite(5);
    const sim = await startStub({ behaviour: behaviourFor([s], 1, 1), tokensPerSecond: 2000 });
    open.push(sim);
    for (let i = 0; i < 5; i++) {
      const whole = await ask(sim, i, false);
      const choice = (whole as Awaited<ReturnType<typeof ask>> & { choices: unknown[] }).choices[0] as {
        message: { content: string | null; tool_calls: { id: string; function: { name: string; arguments: string } }[] };
        finish_reason: string;
      };
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls[0]?.function).toEqual({ name: "lookup", arguments: `{"id":"${i}"}` });
      const streamed = (await ask(sim, i, true)) as { toolCalls?: unknown[]; finishReason: string };
      expect(streamed.finishReason).toBe("tool-calls");
      expect(streamed.toolCalls).toEqual([{ id: choice.message.tool_calls[0]?.id, name: "lookup", arguments: `{"id":"${i}"}` }]);
    }
  });

  it("makes the wrong cases' errors in the configured proportions", async () => {
    const n = 400;
    const s = suite(n);
    const sim = await startStub({ behaviour: behaviourFor([s], 0, 3, { toolErrors: { wrongTool: 1, wrongArgument: 1, asText: 1, noCall: 1, badJson: 0 } }) });
    const onlyText = await startStub({
      behaviour: behaviourFor([s], 0, 3, { toolErrors: { wrongTool: 0, wrongArgument: 0, asText: 1, noCall: 0, badJson: 0 } }),
    });
    open.push(sim, onlyText);
    const kinds = { wrongTool: 0, wrongArgument: 0, asText: 0, noCall: 0, other: 0 };
    for (let i = 0; i < n; i++) {
      const m = (
        (await ask(sim, i, false)) as { choices: { message: { content: string | null; tool_calls?: { function: { name: string; arguments: string } }[] } }[] }
      ).choices[0]?.message;
      const call = m?.tool_calls?.[0]?.function;
      if (call?.name === "cancel") kinds.wrongTool++;
      else if (call?.name === "lookup" && call.arguments === `{"id":"${i}-x"}`) kinds.wrongArgument++;
      else if (!call && m?.content?.startsWith("<tool_call>")) kinds.asText++;
      else if (!call && m?.content) kinds.noCall++;
      else kinds.other++;
    }
    expect(kinds.other).toBe(0);
    for (const k of ["wrongTool", "wrongArgument", "asText", "noCall"] as const) {
      expect(kinds[k] / n, k).toBeGreaterThan(0.18);
      expect(kinds[k] / n, k).toBeLessThan(0.32);
    }
    for (let i = 0; i < 20; i++) {
      const m = ((await ask(onlyText, i, false)) as { choices: { message: { content: string | null; tool_calls?: unknown[] } }[] }).choices[0]?.message;
      expect(m?.tool_calls).toBeUndefined();
      expect(JSON.parse(m?.content?.replace(/<\/?tool_call>/g, "") ?? "")).toEqual({ name: "lookup", arguments: { id: String(i) } });
    }
  });

  it("refuses a --tool-errors mix it does not understand", async () => {
    const r = await runCli(["simulate", "--port", "0", "--tool-errors", "wrongToll=1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tool-errors: "wrongToll=1" is not KIND=WEIGHT/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
