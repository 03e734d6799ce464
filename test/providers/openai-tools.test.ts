/**
 * Tool use over the OpenAI protocol, against a real HTTP server on 127.0.0.1 that answers with
 * scripted bodies: calls streamed as index-keyed fragments and whole, parallel and interleaved with
 * text, malformed and empty arguments, and hostile streams that must fail with a ProviderError.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createOpenAiCompatibleProvider } from "../../src/providers/openai-compatible.js";
import { MAX_ARGUMENT_CHARS, MAX_TOOL_CALLS } from "../../src/providers/tools/bounds.js";
import { type Message, ProviderError, type ToolDefinition } from "../../src/providers/types.js";
import { UserError } from "../../src/util/errors.js";

type Handler = (body: Record<string, unknown>, res: ServerResponse, headers: IncomingHttpHeaders) => void;

async function withServer(handler: Handler, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => handler(JSON.parse(body) as Record<string, unknown>, res, req.headers));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Writes each chunk as its own SSE event, each in its own write, then [DONE]. */
function sse(res: ServerResponse, chunks: unknown[], splitEvery = 0): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const text = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")}data: [DONE]\n\n`;
  if (!splitEvery) {
    res.end(text);
    return;
  }
  // Cut the stream at arbitrary byte positions (inside JSON, inside "data:") to prove reassembly.
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += splitEvery) pieces.push(text.slice(i, i + splitEvery));
  const next = () => {
    const p = pieces.shift();
    if (p === undefined) res.end();
    else res.write(p, () => setImmediate(next));
  };
  next();
}

const tools: ToolDefinition[] = [
  {
    type: "function",
    function: { name: "get_order_status", description: "Look up an order", parameters: { type: "object", properties: { order_id: { type: "string" } } } },
  },
  { type: "function", function: { name: "issue_refund", parameters: { type: "object", properties: { amount: { type: "number" } } } } },
];
const ask: Message[] = [{ role: "user", content: "Where are orders 8812 and 9?" }];
const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ index: 0, delta: d, finish_reason: finish }] });
const frag = (index: number, f: Record<string, unknown>) => delta({ tool_calls: [{ index, ...f }] });
const provider = (url: string) => createOpenAiCompatibleProvider({ id: "t", baseUrl: url, model: "qwen" });

describe("openai-compatible tool use: the request", () => {
  it("sends tools and tool_choice only when given, and maps calls and results to the wire", async () => {
    const seen: Record<string, unknown>[] = [];
    await withServer(
      (body, res) => {
        seen.push(body);
        sse(res, [delta({ content: "ok" }, "stop")]);
      },
      async (url) => {
        const p = provider(url);
        await p.chat({ messages: ask, params: {} });
        await p.chat({ messages: ask, params: {}, tools: [], toolChoice: "required" });
        const conversation: Message[] = [
          { role: "user", content: "Refund order 77" },
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_order_status", arguments: '{"order_id":"77"}' }] },
          { role: "tool", toolCallId: "c1", content: '{"status":"delivered"}' },
          { role: "assistant", content: "Checking both.", toolCalls: [{ id: "c2", name: "issue_refund", arguments: "{}" }] },
        ];
        await p.chat({ messages: conversation, params: {}, tools, toolChoice: { type: "function", function: { name: "issue_refund" } } });
        await p.chat({ messages: ask, params: {}, tools });
      },
    );
    expect(seen[0]).not.toHaveProperty("tools");
    expect(seen[0]).not.toHaveProperty("tool_choice");
    expect(seen[1]).not.toHaveProperty("tools"); // an empty list is a plain request
    expect(seen[1]).not.toHaveProperty("tool_choice");
    expect(seen[2]?.tools).toEqual(tools);
    expect(seen[2]?.tool_choice).toEqual({ type: "function", function: { name: "issue_refund" } });
    expect(seen[2]?.messages).toEqual([
      { role: "user", content: "Refund order 77" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "get_order_status", arguments: '{"order_id":"77"}' } }],
      },
      { role: "tool", tool_call_id: "c1", content: '{"status":"delivered"}' },
      { role: "assistant", content: "Checking both.", tool_calls: [{ id: "c2", type: "function", function: { name: "issue_refund", arguments: "{}" } }] },
    ]);
    expect(seen[3]?.tools).toEqual(tools);
    expect(seen[3]).not.toHaveProperty("tool_choice");
  });

  it("refuses a tool message that names no call before sending anything", async () => {
    let requests = 0;
    await withServer(
      (_b, res) => {
        requests++;
        sse(res, [delta({ content: "x" }, "stop")]);
      },
      async (url) => {
        const e = await provider(url)
          .chat({ messages: [{ role: "tool", content: "{}" }], params: {} })
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(UserError);
      },
    );
    expect(requests).toBe(0);
  });
});

describe("openai-compatible tool use: the answer", () => {
  it("accumulates two parallel streamed calls whose fragments interleave, across arbitrary chunk cuts", async () => {
    const chunks = [
      delta({ role: "assistant", content: null }),
      frag(0, { id: "call_a", type: "function", function: { name: "get_order_status", arguments: "" } }),
      frag(1, { id: "call_b", type: "function", function: { name: "get_order_status", arguments: '{"ord' } }),
      frag(0, { function: { arguments: '{"order_id":' } }),
      frag(1, { function: { arguments: 'er_id":"9"}' } }),
      frag(0, { function: { arguments: '"8812"}' } }),
      { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
      { choices: [], usage: { prompt_tokens: 40, completion_tokens: 22 } },
    ];
    for (const split of [0, 7]) {
      await withServer(
        (_b, res) => sse(res, chunks, split),
        async (url) => {
          const r = await provider(url).chat({ messages: ask, params: {}, tools });
          expect(r.toolCalls).toEqual([
            { id: "call_a", name: "get_order_status", arguments: '{"order_id":"8812"}' },
            { id: "call_b", name: "get_order_status", arguments: '{"order_id":"9"}' },
          ]);
          expect(r.finishReason).toBe("tool-calls");
          expect(r.text).toBe("");
          expect(r.usage).toEqual({ inputTokens: 40, outputTokens: 22 });
        },
      );
    }
  });

  it("reads tool_calls from a whole (non-streamed) answer, parallel ones in order", async () => {
    await withServer(
      (_b, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [
              {
                message: {
                  role: "assistant",
                  content: null,
                  tool_calls: [
                    { id: "c1", type: "function", function: { name: "get_order_status", arguments: '{"order_id":"8812"}' } },
                    { id: "c2", type: "function", function: { name: "issue_refund", arguments: '{"amount":40}' } },
                  ],
                },
                finish_reason: "tool_calls",
              },
            ],
            usage: { prompt_tokens: 9, completion_tokens: 3 },
          }),
        );
      },
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r.text).toBe("");
        expect(r.finishReason).toBe("tool-calls");
        expect(r.toolCalls).toEqual([
          { id: "c1", name: "get_order_status", arguments: '{"order_id":"8812"}' },
          { id: "c2", name: "issue_refund", arguments: '{"amount":40}' },
        ]);
      },
    );
  });

  it("keeps malformed argument JSON verbatim, streamed and not, and an empty argument string as empty", async () => {
    const broken = '{"order_id": "8812",,, <b>';
    await withServer(
      (body, res) => {
        if (body.stream && (body.messages as unknown[]).length === 1)
          sse(res, [
            frag(0, { id: "c1", function: { name: "get_order_status", arguments: broken.slice(0, 10) } }),
            frag(0, { function: { arguments: broken.slice(10) } }),
            frag(1, { id: "c2", function: { name: "issue_refund", arguments: "" } }),
            delta({}, "tool_calls"),
          ]);
        else {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ choices: [{ message: { content: null, tool_calls: [{ id: "c9", function: { name: "issue_refund", arguments: broken } }] } }] }),
          );
        }
      },
      async (url) => {
        const p = provider(url);
        const streamed = await p.chat({ messages: ask, params: {}, tools });
        expect(streamed.toolCalls).toEqual([
          { id: "c1", name: "get_order_status", arguments: broken },
          { id: "c2", name: "issue_refund", arguments: "" },
        ]);
        const whole = await p.chat({ messages: [...ask, { role: "user", content: "again" }], params: {}, tools });
        expect(whole.toolCalls).toEqual([{ id: "c9", name: "issue_refund", arguments: broken }]);
        expect(whole.finishReason).toBe("other"); // the server sent no finish_reason
      },
    );
  });

  it("keeps text and calls apart when the server interleaves them", async () => {
    const seenChunks: string[] = [];
    await withServer(
      (_b, res) =>
        sse(res, [
          delta({ content: "Let me " }),
          frag(0, { id: "c1", function: { name: "get_order_status", arguments: '{"order_id"' } }),
          delta({ content: "check that " }),
          frag(0, { function: { arguments: ':"8812"}' } }),
          delta({ content: "for you." }),
          delta({}, "tool_calls"),
        ]),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools, onChunk: (t) => seenChunks.push(t) });
        expect(r.text).toBe("Let me check that for you.");
        expect(seenChunks).toEqual(["Let me ", "check that ", "for you."]);
        expect(r.toolCalls).toEqual([{ id: "c1", name: "get_order_status", arguments: '{"order_id":"8812"}' }]);
        expect(r.finishReason).toBe("tool-calls");
        expect(r.usage.estimated).toBe(true);
      },
    );
  });

  it("calls an answer with calls but finish_reason stop tool-calls, and makes up missing ids (unique)", async () => {
    await withServer(
      (_b, res) =>
        sse(res, [
          delta({ tool_calls: [{ function: { name: "get_order_status", arguments: '{"order_id":"1"}' } }] }),
          delta({ tool_calls: [{ id: "x2", function: { name: "issue_refund", arguments: '{"amount":1}' } }] }),
          delta({}, "stop"),
        ]),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r.finishReason).toBe("tool-calls");
        expect(r.toolCalls?.map((c) => c.name)).toEqual(["get_order_status", "issue_refund"]);
        expect(r.toolCalls?.[0]?.id).toMatch(/^call_wb_[0-9a-f]{24}$/);
        expect(r.toolCalls?.[1]?.id).toBe("x2");
      },
    );
  });

  it("answers without calls as before: no toolCalls field, finish stop", async () => {
    await withServer(
      (_b, res) => sse(res, [delta({ content: "Order 8812 shipped." }, "stop")]),
      async (url) => {
        const r = await provider(url).chat({ messages: ask, params: {}, tools });
        expect(r).not.toHaveProperty("toolCalls");
        expect(r.finishReason).toBe("stop");
      },
    );
  });
});

describe("openai-compatible tool use: hostile answers fail closed", () => {
  const cases: [string, () => unknown[], RegExp][] = [
    ["an index past the bound", () => [frag(MAX_TOOL_CALLS, { id: "c", function: { name: "f", arguments: "{}" } })], /index 128/],
    ["a negative index", () => [frag(-1, { id: "c", function: { name: "f" } })], /index -1/],
    ["a fractional index", () => [frag(0.5, { id: "c", function: { name: "f" } })], /index 0.5/],
    [
      "a call whose name changes",
      () => [frag(0, { id: "c", function: { name: "get_order_status" } }), frag(0, { function: { name: "issue_refund" } })],
      /name changed/,
    ],
    ["a call whose id changes", () => [frag(0, { id: "c1", function: { name: "f" } }), frag(0, { id: "c2" })], /id changed/],
    ["a call without a name", () => [frag(0, { id: "c1", function: { arguments: "{}" } })], /no function name/],
    ["arguments that are a number", () => [frag(0, { id: "c1", function: { name: "f", arguments: 42 } })], /arguments are a number/],
    [
      "arguments past the bound, in fragments",
      () => {
        const piece = "x".repeat(MAX_ARGUMENT_CHARS / 4);
        return [frag(0, { id: "c", function: { name: "f", arguments: piece } }), ...[1, 2, 3, 4].map(() => frag(0, { function: { arguments: piece } }))];
      },
      /arguments longer than/,
    ],
    [
      "more calls than the bound, without indexes",
      () => Array.from({ length: MAX_TOOL_CALLS + 1 }, (_, i) => delta({ tool_calls: [{ id: `c${i}`, function: { name: "f", arguments: "{}" } }] })),
      /more than 128 calls/,
    ],
    ["tool_calls that is not a list", () => [delta({ tool_calls: { index: 0 } })], /not a list/],
  ];
  it.each(cases)("streamed: %s", async (_name, chunks, message) => {
    await withServer(
      (_b, res) => sse(res, [...chunks(), delta({}, "tool_calls")]),
      async (url) => {
        const e = await provider(url)
          .chat({ messages: ask, params: {}, tools })
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ProviderError);
        expect((e as ProviderError).retryable).toBe(false);
        expect((e as Error).message).toMatch(/^malformed tool call: /);
        expect((e as Error).message).toMatch(message);
      },
    );
  });

  it("whole answer: too many calls, and a call that is not an object", async () => {
    const bodies = [
      { tool_calls: Array.from({ length: MAX_TOOL_CALLS + 1 }, (_, i) => ({ id: `c${i}`, function: { name: "f", arguments: "{}" } })) },
      { tool_calls: ["get_order_status"] },
      { tool_calls: [{ id: 7, function: { name: "f", arguments: "{}" } }] },
    ];
    let n = 0;
    await withServer(
      (_b, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { content: null, ...bodies[n++] } }] }));
      },
      async (url) => {
        for (const want of [/129 calls/, /no function object/, /id is not a string/]) {
          const e = await provider(url)
            .chat({ messages: ask, params: {}, tools })
            .catch((x: unknown) => x);
          expect(e).toBeInstanceOf(ProviderError);
          expect((e as Error).message).toMatch(want);
        }
      },
    );
  });
});
