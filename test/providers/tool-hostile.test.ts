/**
 * Hostile review of tool calling in the providers (issue 19): upstream answers a broken or hostile
 * server can send, over real HTTP from a stub on 127.0.0.1. Each must end as a clear ProviderError or
 * a faithful ToolCall — never a crash, a hang, prototype pollution or unbounded memory.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/anthropic.js";
import { toLlamaFunctions } from "../../src/providers/local/tool-history.js";
import { createOpenAiCompatibleProvider } from "../../src/providers/openai-compatible.js";
import { SseDecoder } from "../../src/providers/sse.js";
import { type Message, ProviderError, type ToolDefinition } from "../../src/providers/types.js";

async function withServer(handler: (res: ServerResponse) => void, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handler(res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const sse = (res: ServerResponse, events: unknown[], done = "data: [DONE]\n\n") => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + done);
};
const whole = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ index: 0, delta: d, finish_reason: finish }] });
const frag = (index: unknown, f: Record<string, unknown>) => delta({ tool_calls: [{ index, ...f }] });
const tools: ToolDefinition[] = [{ type: "function", function: { name: "issue_refund" } }];
const ask: Message[] = [{ role: "user", content: "Refund order 77" }];
const openai = (url: string) => createOpenAiCompatibleProvider({ id: "t", baseUrl: `${url}/v1`, model: "qwen" });
const chat = (url: string) =>
  openai(url)
    .chat({ messages: ask, params: {}, tools })
    .catch((e: unknown) => e);

async function expectMalformed(handler: (res: ServerResponse) => void, message: RegExp): Promise<void> {
  await withServer(handler, async (url) => {
    const e = await chat(url);
    expect(e).toBeInstanceOf(ProviderError);
    expect((e as Error).message).toMatch(message);
  });
}

describe("openai-compatible: hostile streamed tool calls", () => {
  it("an index that jumps to 5000 is refused; sparse small indexes keep their order", async () => {
    await expectMalformed((res) => sse(res, [frag(0, { id: "a", function: { name: "f", arguments: "{}" } }), frag(5000, { id: "b" })]), /index 5000/);
    await withServer(
      (res) =>
        sse(res, [
          frag(100, { id: "b", function: { name: "g", arguments: "{}" } }),
          frag(0, { id: "a", function: { name: "f", arguments: "{}" } }),
          delta({}, "tool_calls"),
        ]),
      async (url) => {
        const r = await openai(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls?.map((c) => c.name)).toEqual(["f", "g"]);
      },
    );
  });

  it("an index that is a string is refused", async () => {
    await expectMalformed((res) => sse(res, [frag("0", { id: "a", function: { name: "f" } })]), /index "0"/);
  });

  it("arguments that are a list are refused; null arguments are none; an object is serialised", async () => {
    await expectMalformed((res) => sse(res, [frag(0, { id: "a", function: { name: "f", arguments: [1] } })]), /arguments are a list/);
    await withServer(
      (res) =>
        sse(res, [
          frag(0, { id: "a", function: { name: "f", arguments: null } }),
          frag(1, { id: "b", function: { name: "g", arguments: { account: "7731" } } }),
          delta({}, "tool_calls"),
        ]),
      async (url) => {
        const r = await openai(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls).toEqual([
          { id: "a", name: "f", arguments: "" },
          { id: "b", name: "g", arguments: '{"account":"7731"}' },
        ]);
      },
    );
  });

  it("__proto__ as a tool name and as an argument key is carried faithfully and pollutes nothing", async () => {
    const args = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}';
    for (const body of [
      (res: ServerResponse) =>
        sse(res, [frag(0, { id: "a", function: { name: "__proto__", arguments: args } }), frag(1, { id: "b", function: { name: "constructor" } })]),
      (res: ServerResponse) =>
        whole(res, {
          choices: [
            {
              message: {
                role: "assistant",
                content: null,
                tool_calls: [
                  { id: "a", function: { name: "__proto__", arguments: JSON.parse(args) } },
                  { id: "b", function: { name: "constructor", arguments: "" } },
                ],
              },
            },
          ],
        }),
    ])
      await withServer(body, async (url) => {
        const r = await openai(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls?.map((c) => c.name)).toEqual(["__proto__", "constructor"]);
        expect(JSON.parse(r.toolCalls?.[0]?.arguments ?? "")).toHaveProperty("__proto__");
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });
  });

  it("two calls with the same id in one answer are refused, streamed and whole", async () => {
    await expectMalformed(
      (res) => sse(res, [frag(0, { id: "dup", function: { name: "f", arguments: "{}" } }), frag(1, { id: "dup", function: { name: "g", arguments: "{}" } })]),
      /two calls share the id dup/,
    );
    await expectMalformed(
      (res) =>
        whole(res, {
          choices: [
            {
              message: {
                content: null,
                tool_calls: [
                  { id: "dup", function: { name: "f", arguments: "{}" } },
                  { id: "dup", function: { name: "g", arguments: "{}" } },
                ],
              },
            },
          ],
        }),
      /two calls share the id dup/,
    );
  });

  it("a call's id that changes in a later fragment is refused", async () => {
    await expectMalformed(
      (res) => sse(res, [frag(0, { id: "a", function: { name: "f", arguments: "{" } }), frag(0, { id: "evil", function: { arguments: "}" } })]),
      /id changed/,
    );
  });

  it("finish_reason tool_calls with no call at all is an ordinary stop, and text beside calls is kept", async () => {
    await withServer(
      (res) => sse(res, [delta({ content: '<tool_call>{"name":"issue_refund","arguments":{}}</tool_call>' }), delta({}, "tool_calls")]),
      async (url) => {
        const r = await openai(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls).toBeUndefined();
        expect(r.finishReason).toBe("stop"); // the calls are in the text: the fidelity report finds them there
      },
    );
  });

  it("tool_calls on a message whose role is not assistant is refused", async () => {
    await expectMalformed(
      (res) => whole(res, { choices: [{ message: { role: "tool", content: null, tool_calls: [{ id: "a", function: { name: "f", arguments: "{}" } }] } }] }),
      /role is "tool"/,
    );
    await expectMalformed((res) => sse(res, [delta({ role: "user", tool_calls: [{ index: 0, id: "a", function: { name: "f" } }] })]), /role is "user"/);
  });

  it("a stream cut in the middle of a call (no finish_reason, no [DONE]) is a retryable error, not a truncated call", async () => {
    await withServer(
      (res) => sse(res, [frag(0, { id: "a", function: { name: "issue_refund", arguments: '{"amount": 4' } })], ""),
      async (url) => {
        const e = await chat(url);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as ProviderError).retryable).toBe(true);
        expect((e as Error).message).toMatch(/ended in the middle of a tool call/);
      },
    );
  });

  it("200,000 one-character argument fragments assemble into one call (linear, no hang)", async () => {
    const n = 200_000;
    await withServer(
      (res) =>
        sse(res, [
          frag(0, { id: "a", function: { name: "f", arguments: "" } }),
          ...Array.from({ length: n }, () => frag(0, { function: { arguments: "x" } })),
          delta({}, "tool_calls"),
        ]),
      async (url) => {
        const r = await openai(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls?.[0]?.arguments.length).toBe(n);
      },
    );
  }, 30_000);
});

describe("SSE decoding stays linear and bounded", () => {
  it("an event of 2 MiB pushed one byte at a time is decoded whole", () => {
    const data = JSON.stringify({ a: "x".repeat(2 << 20) });
    const text = `data: ${data}\n\n`;
    const d = new SseDecoder();
    const out = [];
    for (let i = 0; i < text.length; i += 1) out.push(...d.push(text[i] as string));
    expect(out).toHaveLength(1);
    expect(out[0]?.data).toBe(data);
  }, 30_000);

  it("a line that never ends is refused past the bound instead of growing without limit", () => {
    const d = new SseDecoder();
    const piece = `data: ${"x".repeat(1 << 20)}`;
    let err: unknown;
    try {
      for (let i = 0; i < 200; i++) d.push(piece);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/event longer than/);
  });
});

describe("anthropic: hostile tool_use blocks", () => {
  beforeEach(() => {
    process.env.WB_TEST_ANTHROPIC = "k";
  });
  afterEach(() => {
    delete process.env.WB_TEST_ANTHROPIC;
  });
  const anthropic = (url: string) => createAnthropicProvider({ id: "c", baseUrl: url, model: "claude-x", apiKeyEnv: "WB_TEST_ANTHROPIC" });
  const events = (res: ServerResponse, evs: Record<string, unknown>[], end = true) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const all = [
      { type: "message_start", message: { usage: { input_tokens: 3, output_tokens: 1 } } },
      ...evs,
      ...(end ? [{ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 5 } }, { type: "message_stop" }] : []),
    ];
    res.end(all.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(""));
  };
  const start = (index: number, input: unknown, name = "issue_refund") => ({
    type: "content_block_start",
    index,
    content_block: { type: "tool_use", id: `t${index}`, name, input },
  });
  const json = (index: number, partial_json: string) => ({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
  const call = (url: string) =>
    anthropic(url)
      .chat({ messages: ask, params: {}, tools })
      .catch((e: unknown) => e);

  it("two tool_use blocks with the same id are refused", async () => {
    await withServer(
      (res) =>
        events(res, [
          { ...start(0, {}), content_block: { type: "tool_use", id: "dup", name: "f", input: {} } },
          { ...start(1, {}), content_block: { type: "tool_use", id: "dup", name: "g", input: {} } },
        ]),
      async (url) => {
        const e = await call(url);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as Error).message).toMatch(/two calls share the id dup/);
      },
    );
  });

  it("input_json_delta for a block never opened is refused", async () => {
    await withServer(
      (res) => events(res, [json(3, "{}")]),
      async (url) => {
        const e = await call(url);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as Error).message).toMatch(/content block 3, which is not a tool_use block/);
      },
    );
  });

  it("blocks without content_block_stop are still read faithfully when the message ends", async () => {
    await withServer(
      (res) => events(res, [start(0, {}), json(0, '{"order_id":'), start(1, {}, "__proto__"), json(0, '"77"}'), json(1, "{}")]),
      async (url) => {
        const r = await anthropic(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls).toEqual([
          { id: "t0", name: "issue_refund", arguments: '{"order_id":"77"}' },
          { id: "t1", name: "__proto__", arguments: "{}" },
        ]);
      },
    );
  });

  it.each([
    ["a string", "refund everything"],
    ["a list", [1, 2]],
    ["a number", 5],
  ])("a tool_use whose input is %s is refused", async (_n, input) => {
    await withServer(
      (res) => events(res, [start(0, input)]),
      async (url) => {
        const e = await call(url);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as Error).message).toMatch(/input is not an object/);
      },
    );
  });

  it("a stream cut in the middle of a tool_use (no message_stop) is a retryable error", async () => {
    await withServer(
      (res) => events(res, [start(0, {}), json(0, '{"amount": 4')], false),
      async (url) => {
        const e = await call(url);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as ProviderError).retryable).toBe(true);
        expect((e as Error).message).toMatch(/ended in the middle of a tool call/);
      },
    );
  });
});

describe("local: tool names that are object keys", () => {
  it("a tool named __proto__ is offered as a tool, not made the prototype of the functions object", () => {
    const fns = toLlamaFunctions(
      [
        { type: "function", function: { name: "__proto__", description: "evil", parameters: { type: "object" } } },
        { type: "function", function: { name: "constructor" } },
      ],
      "auto",
    ) as Record<string, unknown>;
    expect(Object.keys(fns)).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(fns)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(fns, "__proto__")?.value).toEqual({ description: "evil", params: { type: "object" } });
  });
});
