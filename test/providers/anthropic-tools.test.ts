/**
 * Tool use over Anthropic's Messages API, against a real HTTP server on 127.0.0.1 that speaks it:
 * the request (tools with input_schema, tool_choice, tool_use and merged tool_result blocks) and the
 * streamed answer (tool_use blocks whose input arrives as input_json_delta fragments), hostile
 * streams included.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/anthropic.js";
import { MAX_ARGUMENT_CHARS, MAX_TOOL_CALLS } from "../../src/providers/tools/bounds.js";
import { type Message, ProviderError, type ToolDefinition } from "../../src/providers/types.js";
import { UserError } from "../../src/util/errors.js";

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;

async function withServer(handler: Handler, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      if (req.url !== "/v1/messages" || req.headers["anthropic-version"] !== "2023-06-01") {
        res.writeHead(404).end();
        return;
      }
      handler(JSON.parse(body) as Record<string, unknown>, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Anthropic's event stream: `event:` lines with the type, as the real API sends them. */
function events(res: ServerResponse, evs: Record<string, unknown>[], stopReason = "tool_use"): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const all = [
    { type: "message_start", message: { id: "msg_1", role: "assistant", content: [], usage: { input_tokens: 31, output_tokens: 1 } } },
    ...evs,
    { type: "message_delta", delta: { stop_reason: stopReason }, usage: { output_tokens: 17 } },
    { type: "message_stop" },
  ];
  res.end(all.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(""));
}
const toolStart = (index: number, id: string, name: string, input: unknown = {}) => ({
  type: "content_block_start",
  index,
  content_block: { type: "tool_use", id, name, input },
});
const json = (index: number, partial_json: unknown) => ({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
const textBlock = (index: number, text: string) => [
  { type: "content_block_start", index, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index, delta: { type: "text_delta", text } },
  { type: "content_block_stop", index },
];
const stop = (index: number) => ({ type: "content_block_stop", index });

const tools: ToolDefinition[] = [
  {
    type: "function",
    function: { name: "get_order_status", description: "Look up an order", parameters: { type: "object", properties: { order_id: { type: "string" } } } },
  },
  { type: "function", function: { name: "escalate" } },
];
const ask: Message[] = [
  { role: "system", content: "You are Acme's agent." },
  { role: "user", content: "Where is order 8812?" },
];

beforeEach(() => {
  process.env.WB_TEST_ANTHROPIC = "k";
});
afterEach(() => {
  delete process.env.WB_TEST_ANTHROPIC;
});
const provider = (url: string) => createAnthropicProvider({ id: "c", baseUrl: url, model: "claude-x", apiKeyEnv: "WB_TEST_ANTHROPIC" });

describe("anthropic tool use: the request", () => {
  it("maps tools, tool_choice, tool_use and tool_result blocks (consecutive results merged into one user turn)", async () => {
    const seen: Record<string, unknown>[] = [];
    await withServer(
      (body, res) => {
        seen.push(body);
        events(res, textBlock(0, "ok"), "end_turn");
      },
      async (url) => {
        const p = provider(url);
        await p.chat({ messages: ask, params: {} });
        const conversation: Message[] = [
          ...ask,
          {
            role: "assistant",
            content: "Checking both.",
            toolCalls: [
              { id: "toolu_1", name: "get_order_status", arguments: '{"order_id":"8812"}' },
              { id: "toolu_2", name: "escalate", arguments: "" },
            ],
          },
          { role: "tool", toolCallId: "toolu_1", content: '{"status":"lost"}' },
          { role: "tool", toolCallId: "toolu_2", content: "escalated" },
          { role: "user", content: "And?" },
          { role: "assistant", content: "", toolCalls: [{ id: "toolu_3", name: "escalate", arguments: "{}" }] },
          { role: "tool", toolCallId: "toolu_3", content: "done" },
        ];
        for (const [choice, wire] of [
          ["auto", { type: "auto" }],
          ["required", { type: "any" }],
          ["none", { type: "none" }],
          [
            { type: "function", function: { name: "escalate" } },
            { type: "tool", name: "escalate" },
          ],
        ] as const) {
          await p.chat({ messages: conversation, params: {}, tools, toolChoice: choice });
          expect(seen.at(-1)?.tool_choice).toEqual(wire);
        }
      },
    );
    expect(seen[0]).not.toHaveProperty("tools");
    expect(seen[0]?.messages).toEqual([{ role: "user", content: "Where is order 8812?" }]);
    const full = seen[1] as Record<string, unknown>;
    expect(full.system).toBe("You are Acme's agent.");
    expect(full.tools).toEqual([
      { name: "get_order_status", description: "Look up an order", input_schema: { type: "object", properties: { order_id: { type: "string" } } } },
      { name: "escalate", input_schema: { type: "object", properties: {} } },
    ]);
    expect(full.messages).toEqual([
      { role: "user", content: "Where is order 8812?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking both." },
          { type: "tool_use", id: "toolu_1", name: "get_order_status", input: { order_id: "8812" } },
          { type: "tool_use", id: "toolu_2", name: "escalate", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: '{"status":"lost"}' },
          { type: "tool_result", tool_use_id: "toolu_2", content: "escalated" },
          { type: "text", text: "And?" },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_3", name: "escalate", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_3", content: "done" }] },
    ]);
  });

  it("refuses, before sending, history whose call arguments are not a JSON object (a case error, not retried: the model made that call) and a tool message without an id (a suite error)", async () => {
    let requests = 0;
    await withServer(
      (_b, res) => {
        requests++;
        events(res, textBlock(0, "x"), "end_turn");
      },
      async (url) => {
        const p = provider(url);
        for (const args of ["{broken", "[1,2]", '"text"']) {
          const e = await p
            .chat({ messages: [...ask, { role: "assistant", content: "", toolCalls: [{ id: "t", name: "escalate", arguments: args }] }], params: {} })
            .catch((x: unknown) => x);
          expect(e).toBeInstanceOf(ProviderError);
          expect((e as ProviderError).retryable).toBe(false);
          expect((e as Error).message).toMatch(/not a JSON object/);
        }
        const e = await p.chat({ messages: [...ask, { role: "tool", content: "r" }], params: {} }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(UserError);
      },
    );
    expect(requests).toBe(0);
  });
});

describe("anthropic tool use: the streamed answer", () => {
  it("assembles parallel tool_use blocks from input_json_delta fragments, after a text block", async () => {
    await withServer(
      (_b, res) =>
        events(res, [
          ...textBlock(0, "Let me look."),
          toolStart(1, "toolu_a", "get_order_status"),
          json(1, ""),
          json(1, '{"order_'),
          json(1, 'id": "8812"}'),
          stop(1),
          toolStart(2, "toolu_b", "escalate"),
          stop(2),
        ]),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r.text).toBe("Let me look.");
        expect(r.toolCalls).toEqual([
          { id: "toolu_a", name: "get_order_status", arguments: '{"order_id": "8812"}' },
          { id: "toolu_b", name: "escalate", arguments: "{}" }, // no fragment: the start input, serialised
        ]);
        expect(r.finishReason).toBe("tool-calls");
        expect(r.usage).toEqual({ inputTokens: 31, outputTokens: 17 });
      },
    );
  });

  it("keeps malformed input JSON verbatim", async () => {
    await withServer(
      (_b, res) => events(res, [toolStart(0, "toolu_a", "get_order_status"), json(0, '{"order_id": 88'), json(0, "12,,}"), stop(0)]),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r.toolCalls).toEqual([{ id: "toolu_a", name: "get_order_status", arguments: '{"order_id": 8812,,}' }]);
      },
    );
  });

  it("answers without calls as before", async () => {
    await withServer(
      (_b, res) => events(res, textBlock(0, "Shipped."), "end_turn"),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r).not.toHaveProperty("toolCalls");
        expect(r.finishReason).toBe("stop");
      },
    );
  });

  const hostile: [string, () => Record<string, unknown>[], RegExp][] = [
    ["input_json_delta for a text block", () => [...textBlock(0, "hi"), json(0, "{}")], /not a tool_use block/],
    ["a block index past the bound", () => [toolStart(100000, "t", "escalate")], /content block index 100000/],
    ["a block started twice", () => [toolStart(0, "t", "escalate"), toolStart(0, "u", "escalate")], /started twice/],
    ["a tool_use without a name", () => [{ type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t" } }], /without a string name/],
    ["partial_json that is not a string", () => [toolStart(0, "t", "escalate"), json(0, { a: 1 })], /partial_json is not a string/],
    [
      "input past the bound",
      () => [toolStart(0, "t", "escalate"), json(0, "x".repeat(MAX_ARGUMENT_CHARS / 2)), json(0, "x".repeat(MAX_ARGUMENT_CHARS / 2 + 1))],
      /arguments longer than/,
    ],
    ["more calls than the bound", () => Array.from({ length: MAX_TOOL_CALLS + 1 }, (_, i) => toolStart(i, `t${i}`, "escalate")), /more than 128 calls/],
  ];
  it.each(hostile)("fails closed on %s", async (_n, evs, message) => {
    await withServer(
      (_b, res) => events(res, evs()),
      async (url) => {
        const e = await provider(url)
          .chat({ messages: ask, params: {}, tools })
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as ProviderError).retryable).toBe(false);
        expect((e as Error).message).toMatch(message);
      },
    );
  });
});
