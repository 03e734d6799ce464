/**
 * Tool use on a local GGUF through real node-llama-cpp, on the tiny random-weight GGUF the tests
 * generate. What is proven: our messages and tools become node-llama-cpp chat history and functions
 * that its chat wrapper (resolved for this GGUF: its own Jinja template, with node-llama-cpp's default
 * call syntax since the template has none) renders into the prompt; a call the model generates in
 * that syntax comes back as a ToolCall — with the model steered by a per-step logit bias into the
 * call (a random-weight model never starts one on its own), node-llama-cpp detecting the call and
 * constraining its parameters with the tool schema's grammar. What is not proven here: that a real
 * model (Qwen, Llama 3.x…) calls well through its specialised wrapper.
 */
import type { ChatWrapper } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalProvider } from "../../src/providers/local/local-provider.js";
import { toLlamaFunctions, toLlamaHistory } from "../../src/providers/local/tool-history.js";
import { type Message, type Provider, ProviderError, type ToolDefinition } from "../../src/providers/types.js";
import { UserError } from "../../src/util/errors.js";
import { makeTinyGguf } from "../support/tiny-gguf.js";

const tools: ToolDefinition[] = [
  {
    type: "function",
    function: {
      name: "get_order_status",
      description: "Look up an order",
      parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
    },
  },
  { type: "function", function: { name: "escalate", description: "Hand over to a human" } },
];
const ask: Message[] = [
  { role: "system", content: "You are Acme's agent." },
  { role: "user", content: "Where is order 8812?" },
];

/** The tiny GGUF's vocabulary has one token per byte at id 3 + byte (after <unk>, <s>, </s>). */
const byteTokens = (s: string) => [...Buffer.from(s)].map((b) => 3 + b);
/** A bias that forces `text`, token by token, then lets the model (and the grammar) go on. */
const forcing = (text: string) => {
  const forced = byteTokens(text);
  return (step: number) => {
    const t = forced[step];
    return t === undefined ? undefined : new Map([[t, 1e4]]);
  };
};

let file: string;
beforeAll(async () => {
  file = await makeTinyGguf();
});

describe("local tool use: the mapping, rendered by node-llama-cpp's chat wrapper for the GGUF", () => {
  it("renders the tools and a past call with its result into the prompt in the model's call syntax", async () => {
    const lib = await import("node-llama-cpp");
    const llama = await lib.getLlama({ gpu: false, build: "never", logLevel: lib.LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: file });
    try {
      const wrapper: ChatWrapper = lib.resolveChatWrapper(model);
      const history = toLlamaHistory([
        ...ask,
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_order_status", arguments: '{"order_id":"8812"}' }] },
        { role: "tool", toolCallId: "c1", content: '{"status":"lost"}' },
        { role: "user", content: "And now?" },
      ]);
      const functions = toLlamaFunctions(tools, "auto");
      const text = wrapper.generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions } : {}) }).contextText.toString();
      expect(text.startsWith("<|system|>\nYou are Acme's agent.")).toBe(true); // the GGUF's own template frames the turns
      expect(text).toContain("// Look up an order\nfunction get_order_status(params: {order_id: string});");
      expect(text).toContain("// Hand over to a human\nfunction escalate();");
      expect(text).toContain('<|assistant|>\n||call: get_order_status({"order_id": "8812"})\n||result: {"status": "lost"}\n<|end|>');
      expect(text.endsWith("<|user|>\nAnd now?<|end|>\n<|assistant|>\n")).toBe(true);
      // tool_choice none: the tools are not offered; a named choice offers that tool only.
      expect(toLlamaFunctions(tools, "none")).toBeUndefined();
      expect(Object.keys(toLlamaFunctions(tools, { type: "function", function: { name: "escalate" } }) ?? {})).toEqual(["escalate"]);
    } finally {
      await model.dispose();
    }
  });

  it("refuses conversations it cannot render: a call without a result, a result without a call, non-object arguments", () => {
    const call = { role: "assistant" as const, content: "", toolCalls: [{ id: "c1", name: "escalate", arguments: "{}" }] };
    expect(() => toLlamaHistory([...ask, call])).toThrow(/has no tool result/);
    expect(() => toLlamaHistory([...ask, { role: "tool", toolCallId: "zz", content: "x" }])).toThrow(/which no assistant message made/);
    expect(() =>
      toLlamaHistory([...ask, { ...call, toolCalls: [{ id: "c1", name: "escalate", arguments: "{oops" }] }, { role: "tool", toolCallId: "c1", content: "x" }]),
    ).toThrow(UserError);
    expect(() => toLlamaFunctions(tools, { type: "function", function: { name: "nope" } })).toThrow(UserError);
  });
});

describe("local tool use: generation through the provider", () => {
  let steered: Provider;
  let exact: Provider;
  beforeAll(() => {
    steered = createLocalProvider({ id: "tiny", path: file, contextSize: 2048, threads: 1, bias: forcing("||call: ") });
    exact = createLocalProvider({ id: "tiny", path: file, contextSize: 2048, threads: 1, bias: forcing('||call: get_order_status({"order_id":"8812"})') });
  });
  afterAll(async () => {
    await steered.close();
    await exact.close();
  });

  it("returns the call node-llama-cpp detected, its parameters valid by the tool's schema (grammar-constrained)", async () => {
    const r = await steered.chat({ messages: ask, params: { maxTokens: 160, temperature: 0 }, tools });
    expect(r.finishReason).toBe("tool-calls");
    expect(r.toolCalls).toHaveLength(1);
    const call = r.toolCalls?.[0];
    expect(["get_order_status", "escalate"]).toContain(call?.name);
    expect(call?.id).toMatch(/^call_wb_/);
    const args = JSON.parse(call?.arguments ?? "") as Record<string, unknown>;
    if (call?.name === "get_order_status") expect(typeof args.order_id).toBe("string");
    expect(r.usage.outputTokens).toBeGreaterThan(8);
    expect(r.usage.inputTokens).toBeGreaterThan(300); // the tool documentation is part of the prompt
  });

  it("parses an exact call written in the model's syntax back to name and arguments", async () => {
    const r = await exact.chat({ messages: ask, params: { maxTokens: 60, temperature: 0 }, tools });
    expect(r.toolCalls).toEqual([{ id: expect.stringMatching(/^call_wb_/), name: "get_order_status", arguments: '{"order_id":"8812"}' }]);
    expect(r.text).toBe("");
    // The call and a result go back in: the next turn renders and generates (gibberish text or another call).
    const next = await exact.chat({
      messages: [
        ...ask,
        { role: "assistant", content: "", toolCalls: r.toolCalls ?? [] },
        { role: "tool", toolCallId: r.toolCalls?.[0]?.id ?? "", content: '{"status":"lost"}' },
      ],
      params: { maxTokens: 8, temperature: 0 },
      tools,
    });
    expect(["stop", "length", "tool-calls"]).toContain(next.finishReason);
  });

  it("turns a conversation longer than the context into a per-request error instead of dropping turns", async () => {
    const small = createLocalProvider({ id: "tiny", path: file, contextSize: 512, threads: 1 });
    try {
      const e = await small.chat({ messages: [...ask, { role: "user", content: "x".repeat(900) }], params: { maxTokens: 8 }, tools }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).retryable).toBe(false);
      expect((e as Error).message).toMatch(/exceeds the context size 512/);
    } finally {
      await small.close();
    }
  });

  it("with tool_choice none the same steering is only text: no call is offered, none is returned", async () => {
    const chunks: string[] = [];
    const r = await steered.chat({ messages: ask, params: { maxTokens: 20, temperature: 0 }, tools, toolChoice: "none", onChunk: (t) => chunks.push(t) });
    expect(r).not.toHaveProperty("toolCalls");
    expect(chunks.join("")).toBe(r.text); // text streams to onChunk as on the other providers
    expect(r.text.startsWith("||call: ")).toBe(true);
    expect(r.finishReason).toBe("length");
  });
});
