import { describe, expect, it } from "vitest";
import type { Expect } from "../../src/config/index.js";
import { gradeCase } from "../../src/evaluate/graders/index.js";
import type { AnswerTurn } from "../../src/evaluate/graders/types.js";
import { mockResult } from "../../src/evaluate/mocks.js";
import { detectTextCall } from "../../src/evaluate/text-calls.js";
import { answerFacts, summariseFidelity } from "../../src/evaluate/tool-fidelity.js";

const testCase = { id: "c", vars: {}, messages: [] };
const call = (name: string, args: unknown, id = "1") => ({ id, name, arguments: typeof args === "string" ? args : JSON.stringify(args) });
const grade = async (e: Expect, answers: AnswerTurn[]) =>
  (await gradeCase([e], { output: answers[answers.length - 1]?.text ?? "", answers, testCase })).grades[0];

describe("tool-call grader", () => {
  const want: Expect = { type: "tool-call", name: "refund", arguments: { order_id: "77", amount: 40 } };
  it("matches arguments as a subset by default, exactly when asked", async () => {
    expect((await grade(want, [{ text: "", toolCalls: [call("refund", { order_id: "77", amount: 40, note: "x" })] }]))?.pass).toBe(true);
    expect((await grade({ ...want, match: "exact" }, [{ text: "", toolCalls: [call("refund", { order_id: "77", amount: 40, note: "x" })] }]))?.pass).toBe(
      false,
    );
    expect((await grade({ ...want, match: "exact" }, [{ text: "", toolCalls: [call("refund", { amount: 40, order_id: "77" })] }]))?.pass).toBe(true);
  });
  it("fails a wrong value, a string for a number, a wrong tool, malformed JSON and no call", async () => {
    const g = (args: unknown, name = "refund") => grade(want, [{ text: "", toolCalls: [call(name, args)] }]);
    expect((await g({ order_id: "78", amount: 40 }))?.pass).toBe(false);
    expect((await g({ order_id: "77", amount: "40" }))?.pass).toBe(false);
    expect(await g({ order_id: "77", amount: 40 }, "status")).toMatchObject({ pass: false, detail: { reason: "called status, expected refund" } });
    expect(await g('{"order_id": "77"')).toMatchObject({ pass: false, detail: { reason: "refund: arguments are not valid JSON" } });
    expect(await grade(want, [{ text: "Sure!", toolCalls: [] }])).toMatchObject({ pass: false, detail: { reason: "no tool call" } });
  });
  it("passes when any of parallel calls matches, and looks at the first answer that called", async () => {
    expect(
      (await grade(want, [{ text: "", toolCalls: [call("status", { order_id: "77" }), call("refund", { order_id: "77", amount: 40 }, "2")] }]))?.pass,
    ).toBe(true);
    const later = [
      { text: "", toolCalls: [call("status", { order_id: "77" })] },
      { text: "", toolCalls: [call("refund", { order_id: "77", amount: 40 })] },
    ];
    expect((await grade(want, later))?.pass).toBe(false);
  });
  it("fails a call written as text and names the convention", async () => {
    const g = await grade(want, [{ text: '<tool_call>{"name": "refund", "arguments": {"order_id": "77", "amount": 40}}</tool_call>', toolCalls: [] }]);
    expect(g).toMatchObject({ pass: false, detail: { textCall: "hermes", textCallName: "refund" } });
  });
  it("none: true passes only when nothing calls a tool, through the API or as text", async () => {
    const none: Expect = { type: "tool-call", none: true };
    expect((await grade(none, [{ text: "I cannot do that.", toolCalls: [] }]))?.pass).toBe(true);
    expect(
      (
        await grade(none, [
          { text: "", toolCalls: [call("refund", {})] },
          { text: "done", toolCalls: [] },
        ])
      )?.pass,
    ).toBe(false);
    expect((await grade(none, [{ text: '[TOOL_CALLS] [{"name": "refund", "arguments": {}}]', toolCalls: [] }]))?.pass).toBe(false);
  });
});

describe("tool-sequence grader", () => {
  const answers = (...names: string[]): AnswerTurn[] => [
    ...names.map((n, i) => ({ text: "", toolCalls: [call(n, { i }, String(i))] })),
    { text: "done", toolCalls: [] },
  ];
  const seq = (calls: string[], extra: Partial<Extract<Expect, { type: "tool-sequence" }>> = {}): Expect => ({ type: "tool-sequence", calls, ...extra });
  it("ordered (default) with extra calls allowed (default)", async () => {
    expect((await grade(seq(["a", "c"]), answers("a", "b", "c")))?.pass).toBe(true);
    expect((await grade(seq(["c", "a"]), answers("a", "b", "c")))?.pass).toBe(false);
  });
  it("allowExtra: false wants exactly those calls", async () => {
    expect((await grade(seq(["a", "c"], { allowExtra: false }), answers("a", "b", "c")))?.pass).toBe(false);
    expect((await grade(seq(["a", "b", "c"], { allowExtra: false }), answers("a", "b", "c")))?.pass).toBe(true);
  });
  it("unordered matches each expected call to a distinct call", async () => {
    expect((await grade(seq(["c", "a"], { ordered: false }), answers("a", "b", "c")))?.pass).toBe(true);
    expect((await grade(seq(["a", "a"], { ordered: false }), answers("a", "b")))?.pass).toBe(false);
    expect((await grade(seq(["b", "a"], { ordered: false, allowExtra: false }), answers("a", "b")))?.pass).toBe(true);
  });
  it("checks arguments of calls that give them", async () => {
    const e: Expect = { type: "tool-sequence", calls: ["a", { name: "b", arguments: { i: 1 } }] };
    expect((await grade(e, answers("a", "b")))?.pass).toBe(true);
    expect((await grade(e, answers("b", "a")))?.pass).toBe(false);
  });
});

describe("calls written as text", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', "hermes", "get_weather"],
    [
      '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
      "deepseek",
      "get_weather",
    ],
    ['<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}', "llama3", "get_weather"],
    ['[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]', "mistral", "get_weather"],
    ["<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0", "kimi", undefined],
    ['```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', "json", "get_weather"],
    ['{"name": "Paris", "population": 2100000}', undefined, undefined],
    ["The weather in Paris is sunny.", undefined, undefined],
  ];
  for (const [text, format, name] of cases)
    it(`${format ?? "no call"}: ${text.slice(0, 40)}`, () => {
      const t = detectTextCall(text);
      expect(t?.format).toBe(format);
      expect(t?.name).toBe(name);
    });
  it("stays bounded on a hostile answer full of braces", () => {
    const hostile = `<tool_call>${"{".repeat(200_000)}${"}".repeat(200_000)}`;
    const t0 = performance.now();
    expect(detectTextCall(hostile)?.format).toBe("hermes");
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("fidelity facts", () => {
  const tools = [
    { type: "function" as const, function: { name: "get", parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } } },
  ];
  it("counts calls, JSON arguments, schema validity and text calls", () => {
    const facts = [
      answerFacts({ text: "", toolCalls: [call("get", { id: "1" })] }, tools),
      answerFacts({ text: "", toolCalls: [call("get", { id: 1 })] }, tools),
      answerFacts({ text: "", toolCalls: [call("get", "{bad")] }, tools),
      answerFacts({ text: "", toolCalls: [call("nope", { id: "1" })] }, tools),
      answerFacts({ text: '<tool_call>{"name":"get","arguments":{"id":"1"}}</tool_call>' }, tools),
      answerFacts({ text: "hello" }, tools),
    ];
    expect(facts.map((f) => [f.calls, f.jsonArgs, f.wellFormed, f.schemaValid, f.textCall ?? "-"])).toEqual([
      [1, 1, 1, 1, "-"],
      [1, 1, 1, 0, "-"],
      [1, 0, 0, 0, "-"],
      [1, 1, 0, 0, "-"],
      [0, 0, 0, 0, "hermes"],
      [0, 0, 0, 0, "-"],
    ]);
    expect(summariseFidelity(facts)).toMatchObject({
      answers: 6,
      answersWithCall: 4,
      withCall: 0.666667,
      wellFormedAnswers: 2,
      wellFormed: 0.5,
      calls: 4,
      callsJson: 3,
      argumentsJson: 0.75,
      callsValid: 1,
      argumentsValid: 0.25,
      asTextAnswers: 1,
      asText: 0.166667,
      asTextFormats: { hermes: 1 },
    });
  });
});

describe("mocks", () => {
  const mocks = {
    get: [{ when: { id: "1" }, result: "one" }, { when: { id: "2", deep: { x: 1 } }, result: { n: 2 } }, { result: "fallback" }],
    only: { when: { id: "9" }, result: "nine" },
  };
  it("answers the first mock whose when is a subset of the arguments", () => {
    expect(mockResult(mocks, call("get", { id: "1", extra: true }))).toEqual({ content: "one", matched: true });
    expect(mockResult(mocks, call("get", { id: "2", deep: { x: 1, y: 2 } }))).toEqual({ content: '{"n":2}', matched: true });
    expect(mockResult(mocks, call("get", { id: "3" }))).toEqual({ content: "fallback", matched: true });
  });
  it("gives an unmatched, unknown or malformed call an error result", () => {
    expect(mockResult(mocks, call("only", { id: "8" }))).toEqual({ content: '{"error":"only: no result for arguments {\\"id\\":\\"8\\"}"}', matched: false });
    expect(mockResult(mocks, call("constructor", {})).matched).toBe(false);
    expect(mockResult(mocks, call("only", "[1,2]"))).toEqual({ content: '{"error":"only: arguments are not a JSON object"}', matched: false });
  });
});
