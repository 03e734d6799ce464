import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSuite } from "../../src/config/suite.js";
import { userErrorOf } from "../support/errors.js";
import { tempDir, writeFiles } from "../support/project.js";

/** The suite of issue 19, as written there. */
const ISSUE_SUITE = `name: order-agent
system: "You are Acme's support agent. Use the tools; never invent an order status."
tools:
  - type: function
    function: { name: get_order_status, description: "Look up an order", parameters: { type: object, properties: { order_id: { type: string } }, required: [order_id] } }
  - type: function
    function: { name: issue_refund, parameters: { type: object, properties: { order_id: { type: string }, amount: { type: number } }, required: [order_id, amount] } }
prompt: "{{message}}"
cases:
  - vars: { message: "Where is order 8812?" }
    expect: { type: tool-call, name: get_order_status, arguments: { order_id: "8812" } }
  - messages:
      - { role: user, content: "Refund order 77, it arrived broken" }
      - { role: assistant, tool_calls: [{ id: c1, type: function, function: { name: get_order_status, arguments: '{"order_id":"77"}' } }] }
      - { role: tool, tool_call_id: c1, content: '{"status":"delivered","total":40}' }
    expect: { type: tool-call, name: issue_refund, arguments: { order_id: "77", amount: 40 } }
  - vars: { message: "Where is order 9?" }
    agent: { maxTurns: 5, mocks: { get_order_status: { when: { order_id: "9" }, result: '{"status":"lost"}' } } }
    expect: [ { type: tool-sequence, calls: [get_order_status] }, { type: contains-any, values: [lost, investigate] } ]
`;

function suiteFile(text: string): string {
  const dir = tempDir();
  writeFiles(dir, { "suite.yaml": text });
  return join(dir, "suite.yaml");
}

describe("tool-use suites", () => {
  it("loads the issue's suite: tools, a conversation in OpenAI wire form mapped to messages, an agent", () => {
    const s = loadSuite(suiteFile(ISSUE_SUITE));
    expect(s.tools?.map((t) => t.function.name)).toEqual(["get_order_status", "issue_refund"]);
    const [first, second, third] = s.cases;
    expect(first?.messages).toEqual([
      { role: "system", content: "You are Acme's support agent. Use the tools; never invent an order status." },
      { role: "user", content: "Where is order 8812?" },
    ]);
    expect(second?.messages.slice(1)).toEqual([
      { role: "user", content: "Refund order 77, it arrived broken" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_order_status", arguments: '{"order_id":"77"}' }] },
      { role: "tool", content: '{"status":"delivered","total":40}', toolCallId: "c1" },
    ]);
    expect(second?.messages[0]?.role).toBe("system");
    expect(third?.agent).toEqual({ maxTurns: 5, mocks: { get_order_status: { when: { order_id: "9" }, result: '{"status":"lost"}' } } });
  });

  // Schema problems name their own line; checks across a case (tools, ids) name the case's first line.
  const bad: [string, (s: string) => string, RegExp, number][] = [
    [
      "an expected tool the suite does not offer",
      (s) => s.replace("name: issue_refund, arguments", "name: issue_refnd, arguments"),
      /"issue_refnd", which is not in the suite's tools/,
      12,
    ],
    ["a mock for an unknown tool", (s) => s.replace("mocks: { get_order_status:", "mocks: { get_status:"), /agent\.mocks names tool "get_status"/, 17],
    [
      "a tool result that answers no call",
      (s) => s.replace("tool_call_id: c1", "tool_call_id: c9"),
      /messages\[2\]: tool_call_id "c9" answers no earlier unanswered call/,
      12,
    ],
    [
      "tool_calls on a user message",
      (s) => s.replace("{ role: assistant, tool_calls", "{ role: user, tool_calls"),
      /only an assistant message may carry tool_calls/,
      12,
    ],
    [
      "a tool-call expect with neither name nor none",
      (s) => s.replace('{ type: tool-call, name: get_order_status, arguments: { order_id: "8812" } }', "{ type: tool-call }"),
      /needs name \(or none: true\)/,
      10,
    ],
    ["an unknown key in an agent", (s) => s.replace("maxTurns: 5", "maxTurn: 5"), /maxTurn/, 18],
    ["maxTurns out of range", (s) => s.replace("maxTurns: 5", "maxTurns: 500"), /maxTurns/, 18],
    [
      "call arguments that are not a JSON object",
      (s) => s.replace(`arguments: '{"order_id":"77"}'`, `arguments: '{"order_id":'`),
      /arguments of call "c1" are not a JSON object/,
      12,
    ],
    ["a tool name with spaces", (s) => s.replace("name: get_order_status, description", 'name: "get order", description'), /tool names are 1-64 letters/, 5],
    [
      "a sequence naming an unknown tool",
      (s) => s.replace("calls: [get_order_status]", "calls: [get_order]"),
      /tool-sequence expectation names tool "get_order"/,
      17,
    ],
  ];
  for (const [what, edit, says, line] of bad)
    it(`refuses ${what} with file:line`, () => {
      const file = suiteFile(edit(ISSUE_SUITE));
      const e = userErrorOf(() => loadSuite(file));
      expect(e.message).toMatch(says);
      expect(e.message).toContain(`${file}:${line}`);
    });

  it("refuses agent cases and tool expects in a suite without tools", () => {
    const file = suiteFile('name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: hi }\n    agent: { mocks: {} }\n    expect: { type: contains, value: x }\n');
    expect(userErrorOf(() => loadSuite(file)).message).toMatch(/agent: the suite offers no tools/);
    const file2 = suiteFile('name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: hi }\n    expect: { type: tool-call, none: true }\n');
    expect(userErrorOf(() => loadSuite(file2)).message).toMatch(/none: true, but the suite offers no tools/);
  });

  it("loads scripted turns, templated with the case's vars", () => {
    const s = loadSuite(
      suiteFile(
        'name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: hi, order: 12 }\n    turns: ["more on {{order}}", "thanks"]\n    expect: { type: contains, value: x }\n',
      ),
    );
    expect(s.cases[0]?.turns).toEqual(["more on 12", "thanks"]);
    const missing = suiteFile(
      'name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: hi }\n    turns: ["more on {{order}}"]\n    expect: { type: contains, value: x }\n',
    );
    expect(userErrorOf(() => loadSuite(missing)).message).toMatch(/:4: turns\[0\] uses \{\{order\}\} but the case's vars do not define "order"/);
  });
});
