import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/anthropic.js";
import { parseRetryAfter } from "../../src/providers/http.js";
import { createOpenAiCompatibleProvider } from "../../src/providers/openai-compatible.js";
import { parseSse } from "../../src/providers/sse.js";
import { ProviderError } from "../../src/providers/types.js";
import { UserError } from "../../src/util/errors.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const messages = [
  { role: "system" as const, content: "Answer briefly." },
  { role: "user" as const, content: "Where is my parcel?" },
];

let sim: Simulator;
beforeAll(async () => {
  sim = await startStub({
    behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" },
    latencyMs: 30,
    tokensPerSecond: 200,
  });
});
afterAll(() => sim.close());

/** A one-off raw HTTP server for responses the simulator does not produce. */
async function rawServer(
  handler: (body: string, res: import("node:http").ServerResponse, headers: import("node:http").IncomingHttpHeaders) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => handler(body, res, req.headers));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise((r) => server.close(() => r())) };
}

describe("openai-compatible provider", () => {
  it("streams, measures TTFT and reads usage from the stream", async () => {
    const p = createOpenAiCompatibleProvider({ id: "sim", baseUrl: sim.baseUrl, model: "m" });
    const r = await p.chat({ messages, params: { maxTokens: 100 } });
    expect(r.text).toBe("Answer briefly.\nWhere is my parcel?");
    expect(r.usage).toEqual({ inputTokens: Math.ceil("Answer briefly.\nWhere is my parcel?".length / 4), outputTokens: Math.ceil(r.text.length / 4) });
    expect(r.ttftMs).toBeGreaterThanOrEqual(25);
    expect(r.latencyMs).toBeGreaterThan(r.ttftMs ?? 0); // chunks arrive over time at 200/s
    expect(r.finishReason).toBe("stop");
  });

  it("reports length when max_tokens cuts the answer", async () => {
    const p = createOpenAiCompatibleProvider({ id: "sim", baseUrl: sim.baseUrl, model: "m" });
    const r = await p.chat({ messages, params: { maxTokens: 2 } });
    expect(r.finishReason).toBe("length");
    expect(r.text).toHaveLength(8);
  });

  it("sends the API key and the exact request body upstream", async () => {
    let seen: { body: Record<string, unknown>; auth?: string } | undefined;
    const srv = await rawServer((body, res, headers) => {
      seen = { body: JSON.parse(body), ...(headers.authorization ? { auth: headers.authorization } : {}) };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }], usage: { prompt_tokens: 7, completion_tokens: 1 } }));
    });
    process.env.WB_TEST_KEY = "sk-test-123";
    try {
      const p = createOpenAiCompatibleProvider({ id: "x", baseUrl: srv.url, model: "qwen", apiKeyEnv: "WB_TEST_KEY" });
      const r = await p.chat({ messages, params: { temperature: 0, maxTokens: 5, seed: 3 } });
      expect(r.text).toBe("ok"); // a server that ignores stream: true still works
      expect(r.usage).toEqual({ inputTokens: 7, outputTokens: 1 });
      expect(seen?.auth).toBe("Bearer sk-test-123");
      expect(seen?.body).toMatchObject({
        model: "qwen",
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0,
        max_tokens: 5,
        seed: 3,
        messages,
      });
    } finally {
      delete process.env.WB_TEST_KEY;
      await srv.close();
    }
  });

  it("estimates tokens (flagged) when the server sends no usage", async () => {
    const srv = await rawServer((_b, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end('data: {"choices":[{"delta":{"content":"hello"}}]}\n\ndata: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
    });
    try {
      const r = await createOpenAiCompatibleProvider({ id: "x", baseUrl: srv.url, model: "m" }).chat({ messages, params: {} });
      expect(r.text).toBe("hello");
      expect(r.usage.estimated).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it("maps 429 with Retry-After and 400 to typed, retryable or not, errors", async () => {
    let n = 0;
    const srv = await rawServer((_b, res) => {
      n++;
      if (n === 1) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "2" });
        res.end(JSON.stringify({ error: { message: "slow down" } }));
      } else {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "bad model" } }));
      }
    });
    try {
      const p = createOpenAiCompatibleProvider({ id: "x", baseUrl: srv.url, model: "m" });
      const e1 = await p.chat({ messages, params: {} }).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(ProviderError);
      expect(e1).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000, message: "HTTP 429: slow down" });
      const e2 = await p.chat({ messages, params: {} }).catch((e: unknown) => e);
      expect(e2).toMatchObject({ status: 400, retryable: false, message: "HTTP 400: bad model" });
    } finally {
      await srv.close();
    }
  });

  it("times out a slow server with a retryable error", async () => {
    const srv = await rawServer((_b, res) => {
      setTimeout(() => res.end("{}"), 2000);
    });
    try {
      const e = await createOpenAiCompatibleProvider({ id: "x", baseUrl: srv.url, model: "m" })
        .chat({ messages, params: {}, timeoutMs: 100 })
        .catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).retryable).toBe(true);
      expect((e as ProviderError).message).toMatch(/timed out/);
    } finally {
      await srv.close();
    }
  });

  it("calls a connection refusal retryable", async () => {
    const e = await createOpenAiCompatibleProvider({ id: "x", baseUrl: "http://127.0.0.1:1/v1", model: "m" })
      .chat({ messages, params: {} })
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ retryable: true });
    expect((e as Error).message).toMatch(/connection error/);
  });

  it("fails before any request when apiKeyEnv names an unset variable", () => {
    expect(() => createOpenAiCompatibleProvider({ id: "x", baseUrl: sim.baseUrl, model: "m", apiKeyEnv: "WB_SURELY_UNSET" })).toThrow(UserError);
  });

  it("gets embeddings in input order", async () => {
    const p = createOpenAiCompatibleProvider({ id: "sim", baseUrl: sim.baseUrl, model: "m" });
    const [a, b] = (await p.embed?.(["refund in five days", "refund in five days"])) ?? [];
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
  });
});

describe("anthropic provider", () => {
  it("speaks the Messages API with streaming, system prompt and usage", async () => {
    process.env.WB_ANTHROPIC_KEY = "k";
    try {
      const p = createAnthropicProvider({ id: "claude", baseUrl: sim.url, model: "claude-sonnet-4-5", apiKeyEnv: "WB_ANTHROPIC_KEY" });
      const r = await p.chat({ messages, params: { maxTokens: 100 } });
      expect(r.text).toBe("Answer briefly.\nWhere is my parcel?");
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens).toBe(Math.ceil(r.text.length / 4));
      expect(r.ttftMs).toBeDefined();
      expect(r.finishReason).toBe("stop");
    } finally {
      delete process.env.WB_ANTHROPIC_KEY;
    }
  });
});

describe("SSE parsing and Retry-After", () => {
  it("handles split chunks, CRLF, comments and event names", async () => {
    async function* chunks() {
      yield ": keep-alive\r\n";
      yield "event: message_start\r\nda";
      yield 'ta: {"a":1}\r\n\r\ndata: line1\ndata: line2\n\n';
    }
    const events = [];
    for await (const e of parseSse(chunks())) events.push(e);
    expect(events).toEqual([{ event: "message_start", data: '{"a":1}' }, { data: "line1\nline2" }]);
  });
  it("parses seconds, HTTP dates and retry-after-ms", () => {
    expect(parseRetryAfter({ "retry-after": "3" })).toBe(3000);
    expect(parseRetryAfter({ "retry-after-ms": "250" })).toBe(250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }, now)).toBe(5000);
    expect(parseRetryAfter({})).toBeUndefined();
  });
});
