/**
 * Hostile answers: sensitive data in answers of every type and status, in tool-call arguments
 * (whole and streamed), answers the gateway cannot read, and the audit row's place before [DONE].
 */

import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { gatewayOnRecordingUpstream, TEST_KEY } from "../support/test-gateway.js";

const CARD = "4111 1111 1111 1111";
const EMAIL = "leak@example.com";
const SSN = "123-45-6789";

let up: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["up"];
let g: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["g"];
let closeAll: () => Promise<void>;

beforeAll(async () => {
  ({
    up,
    g,
    close: closeAll,
  } = await gatewayOnRecordingUpstream(
    "  - { model: support, targets: [only], onSensitive: block }\n  - { model: lenient, targets: [only], onSensitive: block, onUnscannableResponse: pass }\n",
  ));
});
afterAll(async () => closeAll());

const chat = (extra: Record<string, unknown> = {}, model = "support") =>
  fetch(`${g.gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], ...extra }),
  });
const lastRow = async () => (await listAudit(g.store.db)).slice(-1)[0];

describe("answers are scanned whatever their type or status", () => {
  for (const status of [200, 400, 404, 422])
    it(`an HTML page with status ${status}`, async () => {
      up.setAnswer((_, res) => {
        res.writeHead(status, { "content-type": "text/html" });
        res.end(`<html><body>Contact ${EMAIL}, SSN ${SSN}, card ${CARD}</body></html>`);
      });
      const r = await chat();
      const text = await r.text();
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toContain("text/html");
      for (const v of [EMAIL, SSN, CARD]) expect(text).not.toContain(v);
      expect(text).toContain("[EMAIL_REDACTED]");
      expect((await lastRow())?.response_classes).toEqual({ EMAIL: 1, US_SSN: 1, CREDIT_CARD: 1 });
    });

  it("a JSON error and tool-call arguments in a whole answer", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: null,
                tool_calls: [{ id: "t", type: "function", function: { name: "pay", arguments: JSON.stringify({ card: CARD }) } }],
              },
              finish_reason: "tool_calls",
            },
          ],
          error_note: `mail ${EMAIL}`,
        }),
      );
    });
    const text = await (await chat()).text();
    expect(text).not.toContain(CARD);
    expect(text).not.toContain(EMAIL);
    expect((await lastRow())?.response_classes).toEqual({ CREDIT_CARD: 1, EMAIL: 1 });
  });

  it("a compressed answer is withheld (502, audited) unless the route passes it", async () => {
    up.setAnswer((_, res) => {
      const body = gzipSync(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: EMAIL } }] }));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
      res.end(body);
    });
    const r = await chat();
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unscannable_response");
    expect([(await lastRow())?.action, (await lastRow())?.status]).toEqual(["failed", 502]);
    const passed = await chat({}, "lenient");
    expect(passed.status).toBe(200);
    expect((await lastRow())?.response_classes).toBeNull();
  });
});

/** An SSE answer written in the given pieces, then [DONE]. */
const sse = (events: unknown[]) => (_: unknown, res: import("node:http").ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
  res.end("data: [DONE]\n\n");
};

describe("streams", () => {
  it("tool-call arguments split across chunks are redacted; reasoning too", async () => {
    const half = JSON.stringify({ card: CARD });
    const cut = half.indexOf("1111") + 2;
    up.setAnswer(
      sse([
        { choices: [{ index: 0, delta: { role: "assistant", reasoning_content: `thinking about ${EMAIL.slice(0, 5)}` } }] },
        { choices: [{ index: 0, delta: { reasoning_content: EMAIL.slice(5) } }] },
        { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "t", type: "function", function: { name: "pay", arguments: half.slice(0, cut) } }] } }] },
        { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: half.slice(cut) } }] } }] },
        { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
        { choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } },
      ]),
    );
    const text = await (await chat({ stream: true })).text();
    expect(text.replace(/\s/g, "")).not.toContain("4111111111111111");
    let args = "";
    let reasoning = "";
    for (const line of text.split("\n")) {
      if (!line.startsWith("data: {")) continue;
      const j = JSON.parse(line.slice(6)) as { choices: { delta?: { reasoning_content?: string; tool_calls?: { function?: { arguments?: string } }[] } }[] };
      for (const c of j.choices) {
        reasoning += c.delta?.reasoning_content ?? "";
        for (const t of c.delta?.tool_calls ?? []) args += t.function?.arguments ?? "";
      }
    }
    expect(args).toBe(JSON.stringify({ card: "[CREDIT_CARD_REDACTED]" }));
    expect(reasoning).toBe("thinking about [EMAIL_REDACTED]");
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    const row = await lastRow();
    expect(row?.response_classes).toEqual({ CREDIT_CARD: 1, EMAIL: 1 });
    expect([row?.input_tokens, row?.output_tokens]).toEqual([5, 9]);
  });

  it("[DONE] reaches the client only after the audit row is committed", async () => {
    const before = (await listAudit(g.store.db)).length;
    up.setAnswer(sse([{ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] }]));
    const res = await chat({ stream: true });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let got = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
      if (got.includes("[DONE]")) {
        // The moment the client sees [DONE], the row is already in the store.
        expect((await listAudit(g.store.db)).length).toBe(before + 1);
      }
    }
    expect(got).toContain("[DONE]");
  });

  it("an event stream that is not JSON is scanned as text", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`data: plain text ${EMAIL}\n\ndata: [DONE]\n\n`);
    });
    const text = await (await chat({ stream: true })).text();
    expect(text).not.toContain(EMAIL);
    expect(text).toContain("[EMAIL_REDACTED]");
  });
});
