/**
 * A hostile review of the gateway (issue 14): each test is a way data got past it or it misbehaved,
 * found by attacking it as an attacker or a careless client would, over real HTTP, with an upstream
 * that logs the exact bytes it receives. Each was failing before its fix.
 */

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashKey } from "../../src/gateway/server.js";
import { insertKey, listAudit } from "../../src/store/gateway.js";
import { defaultAnswer } from "../support/recording-upstream.js";
import { gatewayOnRecordingUpstream, TEST_KEY } from "../support/test-gateway.js";

const CARD = "4111 1111 1111 1111";
const EMAIL = "leak@example.com";
const TPM_KEY = "wb_tpm_review";

let up: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["up"];
let g: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["g"];
let _closeAll: () => Promise<void>;

beforeAll(async () => {
  ({
    up,
    g,
    close: _closeAll,
  } = await gatewayOnRecordingUpstream(
    "  - { model: support, targets: [only], onSensitive: block }\n  - { model: lenient, targets: [only], onSensitive: block, onUnknownShape: pass }\n",
  ));
  await insertKey(g.store.db, { name: "metered", keyHash: hashKey(TPM_KEY), routes: null, rpm: null, tpm: 1000, budgetUsd: null });
});
afterAll(async () => {
  await g?.close();
  await up?.close();
});

const post = (path: string, body: unknown, key = TEST_KEY, signal?: AbortSignal) =>
  fetch(`${g.gw.url}${path}`, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
const chat = (extra: Record<string, unknown> = {}, model = "support", key = TEST_KEY, signal?: AbortSignal) =>
  post("/v1/chat/completions", { model, messages: [{ role: "user", content: "hello" }], ...extra }, key, signal);
const lastRow = async () => (await listAudit(g.store.db)).slice(-1)[0];

/** An event stream read as a client following the SSE spec reads it: CR, LF and CRLF all end a line. */
function sseData(text: string): string[] {
  const events: string[] = [];
  let data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (data.length) events.push(data.join("\n"));
      data = [];
    } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return events;
}
/** The text a chat client assembles from a stream's deltas. */
const streamedContent = (text: string) =>
  sseData(text)
    .filter((d) => d !== "[DONE]")
    .map((d) => {
      try {
        return ((JSON.parse(d) as { choices?: { delta?: { content?: string } }[] }).choices ?? []).map((c) => c.delta?.content ?? "").join("");
      } catch {
        return "";
      }
    })
    .join("");
const chunk = (content: string) => JSON.stringify({ id: "s", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] });

describe("answers leaking data back", () => {
  it("a stream framed with bare CR line ends: a card split across two events is redacted", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      // CR alone ends a line in SSE; a client following the spec sees two events.
      res.end(`data: ${chunk("card 4111 1111")}\r\rdata: ${chunk(" 1111 1111 ok")}\r\rdata: [DONE]\n\n`);
    });
    const text = await (await chat({ stream: true })).text();
    const content = streamedContent(text);
    expect(content).not.toContain("4111 1111 1111 1111");
    expect(content).toContain("[CREDIT_CARD_REDACTED]");
    expect((await lastRow())?.response_classes).toEqual({ CREDIT_CARD: 1 });
  });

  it("a streamed text field the relay did not know (delta.text in a chat stream): a card split across two events is redacted", async () => {
    const ev = (text: string) => `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", choices: [{ index: 0, delta: { text } }] })}\n\n`;
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`${ev("card 4111 1111")}${ev(" 1111 1111 ok")}data: [DONE]\n\n`);
    });
    const text = await (await chat({ stream: true })).text();
    const assembled = sseData(text)
      .filter((d) => d !== "[DONE]")
      .map((d) => ((JSON.parse(d) as { choices: { delta?: { text?: string } }[] }).choices ?? []).map((c) => c.delta?.text ?? "").join(""))
      .join("");
    expect(assembled).not.toContain(CARD);
    expect(assembled).toContain("[CREDIT_CARD_REDACTED]");
  });

  it("non-JSON event data with line breaks cannot forge events (a [DONE] before the audit row)", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`data: not json\ndata: \ndata: data: [DONE]\n\ndata: ${chunk("fine")}\n\ndata: [DONE]\n\n`);
    });
    const text = await (await chat({ stream: true })).text();
    const events = sseData(text);
    // The one [DONE] is the gateway's own, last, after the audit row.
    expect(events.filter((d) => d === "[DONE]")).toHaveLength(1);
    expect(events[events.length - 1]).toBe("[DONE]");
    expect(events[0]).toBe("not json\n\ndata: [DONE]");
  });

  it("logprobs spell out a redacted value token by token (whole answer)", async () => {
    const tokens = ["mail", " leak", "@", "example", ".com", " now"];
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: tokens.join("") },
              logprobs: { content: tokens.map((token) => ({ token, logprob: -0.1, bytes: [...Buffer.from(token)], top_logprobs: [] })) },
              finish_reason: "stop",
            },
          ],
        }),
      );
    });
    const j = (await (await chat({ logprobs: true })).json()) as {
      choices: { message: { content: string }; logprobs: { content: { token: string }[] } | null }[];
    };
    expect(j.choices[0]?.message.content).toBe("mail [EMAIL_REDACTED] now");
    const spelled = (j.choices[0]?.logprobs?.content ?? []).map((t) => t.token).join("");
    expect(spelled).not.toContain(EMAIL);
  });

  it("logprobs spell out a redacted value token by token (stream)", async () => {
    // A long answer, so that the content is being released while the value's tokens arrive.
    const words = Array.from({ length: 40 }, () => " word");
    const tokens = [...words, " mail", " leak", "@", "example", ".com", " now", ...words];
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const token of tokens)
        res.write(
          `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: token }, logprobs: { content: [{ token, logprob: -0.1, bytes: [...Buffer.from(token)], top_logprobs: [] }] } }] })}\n\n`,
        );
      res.end("data: [DONE]\n\n");
    });
    const text = await (await chat({ stream: true, logprobs: true })).text();
    expect(streamedContent(text)).toBe(`${words.join("")} mail [EMAIL_REDACTED] now${words.join("")}`);
    const spelled = sseData(text)
      .filter((d) => d !== "[DONE]")
      .flatMap((d) => (JSON.parse(d) as { choices: { logprobs?: { content?: { token: string }[] } | null }[] }).choices)
      .flatMap((c) => c.logprobs?.content ?? [])
      .map((t) => t.token)
      .join("");
    expect(spelled).not.toContain(EMAIL);
  });

  it("a JSON answer with a duplicate key: the first value (never scanned: JSON.parse keeps the last) is not passed on", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"mail ${EMAIL}","content":"ok"},"finish_reason":"stop"}]}`,
      );
    });
    const r = await chat();
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).not.toContain(EMAIL);
    expect((JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("ok");
  });

  it("an answer in UTF-16 (declared by its charset) is not passed on unscanned", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-16le" });
      res.end(Buffer.from(`write to ${EMAIL}`, "utf16le"));
    });
    const r = await chat();
    const bytes = Buffer.from(await r.arrayBuffer());
    // What a client that honours the charset reads:
    expect(bytes.toString("utf16le")).not.toContain(EMAIL);
    expect(r.status).toBe(502);
    expect((await lastRow())?.status).toBe(502);
  });
});

describe("requests an upstream reads differently than the gateway", () => {
  it('"stream": "true" (a string) on a route that passes unknown shapes: the upstream does not stream an answer the gateway scans as one text', async () => {
    up.setAnswer((req, res) => {
      // vLLM/pydantic coerce "true" to true: such an upstream streams.
      const b = JSON.parse(req.body) as { stream?: unknown };
      if (b.stream === true || b.stream === "true") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`data: ${chunk("card 4111 1111")}\n\ndata: ${chunk(" 1111 1111 ok")}\n\ndata: [DONE]\n\n`);
      } else defaultAnswer(req, res);
    });
    const before = up.received.length;
    const r = await chat({ stream: "true" }, "lenient");
    const text = await r.text();
    expect(JSON.parse(up.received[before]?.body ?? "{}").stream).toBe(false);
    expect(streamedContent(text)).not.toContain("4111 1111 1111 1111");
    up.setAnswer(defaultAnswer);
  });
  it("an upstream that streams an answer nobody asked to stream: withheld, not scanned as one text", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`data: ${chunk("card 4111 1111")}\n\ndata: ${chunk(" 1111 1111 ok")}\n\ndata: [DONE]\n\n`);
    });
    const r = await chat();
    const text = await r.text();
    expect(streamedContent(text)).not.toContain("4111 1111 1111 1111");
    expect(r.status).toBe(502);
    up.setAnswer(defaultAnswer);
  });
});

describe("requests hiding values", () => {
  // Invisible characters that are not format characters (Cf): variation selectors, the combining
  // grapheme joiner, Mongolian variation selectors, Hangul fillers. A reader (and a tokenizer) skips them.
  for (const [name, sep] of [
    ["VS16 U+FE0F", "\uFE0F"],
    ["VS17 U+E0100", "\u{E0100}"],
    ["combining grapheme joiner U+034F", "\u034F"],
    ["Mongolian FVS1 U+180B", "\u180B"],
    ["Hangul filler U+3164", "\u3164"],
  ] as const)
    it(`a card and an email with ${name} between every character are blocked, nothing sent`, async () => {
      for (const value of [CARD, EMAIL]) {
        const before = up.received.length;
        const r = await chat({ messages: [{ role: "user", content: `pay with ${[...value].join(sep)} please` }] });
        await r.text();
        expect(r.status).toBe(403);
        expect(up.received.length).toBe(before);
      }
    });
});

describe("the audit trail", () => {
  it("an answer nested 300 deep (the body went upstream): the row names the deployment and the bytes sent", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"a":${"[".repeat(300)}"${EMAIL}"${"]".repeat(300)}}`);
    });
    const before = up.received.length;
    const r = await chat();
    const text = await r.text();
    expect(text).not.toContain(EMAIL);
    expect(r.status).toBe(502);
    const row = await lastRow();
    expect(row?.deployment).toBe("only");
    expect(row?.key_name).toBe("bot");
    expect(row?.upstream_sha256).toBe(
      createHash("sha256")
        .update(up.received[before]?.body ?? "")
        .digest("hex"),
    );
    up.setAnswer(defaultAnswer);
  });
});

describe("values written as JSON escapes inside a string (tool arguments are JSON text)", () => {
  // What the client's JSON.parse(arguments) (or a model reading the arguments) turns into the value.
  const escaped = (v: string) => [...v].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");

  it("in a request's tool-call arguments: blocked, nothing sent", async () => {
    for (const value of [CARD, EMAIL]) {
      const before = up.received.length;
      const args = `{"note":"${escaped(value)}"}`;
      expect((JSON.parse(args) as { note: string }).note).toBe(value);
      const r = await chat({
        messages: [
          { role: "user", content: "pay" },
          { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "pay", arguments: args } }] },
          { role: "tool", tool_call_id: "t1", content: "done" },
        ],
      });
      await r.text();
      expect(r.status).toBe(403);
      expect(up.received.length).toBe(before);
    }
  });

  it("in an answer's tool-call arguments: redacted before the client parses them", async () => {
    const args = `{"card":"${escaped(CARD)}"}`;
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "pay", arguments: args } }] },
              finish_reason: "tool_calls",
            },
          ],
        }),
      );
    });
    const j = (await (await chat()).json()) as { choices: { message: { tool_calls: { function: { arguments: string } }[] } }[] };
    const got = j.choices[0]?.message.tool_calls[0]?.function.arguments ?? "";
    expect(got).not.toContain(escaped(CARD));
    expect(got).toContain("[CREDIT_CARD_REDACTED]");
    up.setAnswer(defaultAnswer);
  });
});

describe("requests hiding values in hex with a 0x prefix", () => {
  it("0x + the hex of a card and of an email are blocked, nothing sent", async () => {
    for (const value of [`card ${CARD}`, `mail ${EMAIL}`]) {
      const before = up.received.length;
      const r = await chat({ messages: [{ role: "user", content: `decode 0x${Buffer.from(value).toString("hex")} please` }] });
      await r.text();
      expect(r.status).toBe(403);
      expect(up.received.length).toBe(before);
    }
  });
});

describe("requests hiding values behind a minus sign", () => {
  it("a card as a negative JSON number (a field the route passes) is blocked, nothing sent", async () => {
    const before = up.received.length;
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: `{"model":"lenient","messages":[{"role":"user","content":"my card, without the sign:"}],"card":-4111111111111111}`,
    });
    await r.text();
    expect(r.status).toBe(403);
    expect(up.received.length).toBe(before);
  });

  for (const text of ["card-4111 1111 1111 1111", "card -4111111111111111", "pay: -4111-1111-1111-1111"])
    it(`"${text}" is blocked, nothing sent`, async () => {
      const before = up.received.length;
      const r = await chat({ messages: [{ role: "user", content: text }] });
      await r.text();
      expect(r.status).toBe(403);
      expect(up.received.length).toBe(before);
    });
});

describe("resources", () => {
  it("an upstream event that never ends (16 MiB on one line) is cut off at a bound, audited as failed", async () => {
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${chunk("hello")}\n\ndata: `);
      const piece = "x".repeat(64 * 1024);
      let n = 0;
      const more = () => {
        while (n < 256) {
          n++;
          if (!res.write(piece)) return void res.once("drain", more);
        }
        res.end("\n\n");
      };
      more();
    });
    const started = Date.now();
    const r = await chat({ stream: true });
    const text = await r.text().catch(() => "");
    expect(text.length).toBeLessThan(1024 * 1024);
    expect(text).not.toContain("[DONE]");
    expect(Date.now() - started).toBeLessThan(10_000);
    const row = await lastRow();
    expect(row?.status).toBe(502);
    up.setAnswer(defaultAnswer);
  }, 60_000);

  it("a body of 250,000 empty messages (7 MiB, under the body limit) is refused before it is walked, audited", async () => {
    const before = up.received.length;
    const rowsBefore = (await listAudit(g.store.db)).length;
    const r = await chat({ messages: Array.from({ length: 250_000 }, () => ({ role: "user", content: "" })) });
    const j = (await r.json()) as { error: { code: string } };
    expect(r.status).toBe(413);
    expect(j.error.code).toBe("request_too_complex");
    expect(up.received.length).toBe(before);
    const rows = await listAudit(g.store.db);
    expect(rows.length).toBe(rowsBefore + 1);
    expect(rows[rows.length - 1]?.status).toBe(413);
  }, 60_000);

  it("an embeddings request of token ids (1,000,000 numbers) is still served", async () => {
    up.setAnswer(defaultAnswer);
    const r = await post("/v1/embeddings", { model: "support", input: Array.from({ length: 1000 }, () => Array.from({ length: 1000 }, (_, i) => i % 50_000)) });
    await r.text();
    expect(r.status).toBe(200);
  }, 60_000);

  it("a large whole answer (1 MiB, JSON and text) is still scanned whole when its long strings are detected on the pool", async () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(40_000);
    const content = `${filler} card ${CARD} ${filler} mail ${EMAIL}`;
    for (const asJson of [true, false]) {
      up.setAnswer((_, res) => {
        res.writeHead(200, { "content-type": asJson ? "application/json" : "text/plain" });
        res.end(
          asJson
            ? JSON.stringify({ id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] })
            : content,
        );
      });
      const text = await (await chat()).text();
      expect(text.length).toBeGreaterThan(1_000_000);
      for (const v of [CARD, EMAIL]) expect(text).not.toContain(v);
      expect((await lastRow())?.response_classes).toEqual({ CREDIT_CARD: 1, EMAIL: 1 });
    }
    up.setAnswer(defaultAnswer);
  }, 60_000);

  it("a client that disconnects mid-stream: the upstream stream that never ends is closed, and the request audited", async () => {
    let upstreamRes: import("node:http").ServerResponse | undefined;
    let upstreamClosed = false;
    up.setAnswer((_, res) => {
      upstreamRes = res;
      res.on("close", () => {
        upstreamClosed = true;
      });
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${chunk("lorem ipsum ".repeat(40))}\n\n`); // past the hold-back window, then silence
    });
    const rowsBefore = (await listAudit(g.store.db)).length;
    const ac = new AbortController();
    const r = await chat({ stream: true }, "support", TEST_KEY, ac.signal);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first relayed bytes
    ac.abort();
    const deadline = Date.now() + 3000;
    while (!upstreamClosed && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const closed = upstreamClosed;
    upstreamRes?.end("data: [DONE]\n\n"); // let a failing run end
    expect(closed).toBe(true);
    await new Promise((res) => setTimeout(res, 200));
    const rows = await listAudit(g.store.db);
    expect(rows.length).toBe(rowsBefore + 1);
    expect(rows[rows.length - 1]?.status).toBe(499);
    up.setAnswer(defaultAnswer);
  });
});

describe("limits", () => {
  it("a negative max_tokens does not refill the key's tokens-per-minute bucket", async () => {
    // Like vLLM: a negative max_tokens is a 400 (no usage to settle with); otherwise the real usage.
    up.setAnswer((req, res) => {
      const b = JSON.parse(req.body) as { max_tokens?: number };
      const bad = (b.max_tokens ?? 0) < 0;
      const text = bad
        ? JSON.stringify({ error: { message: "max_tokens must be at least 1", type: "BadRequestError" } })
        : JSON.stringify({
            id: "c",
            object: "chat.completion",
            choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
            usage: { prompt_tokens: 3750, completion_tokens: 1 },
          });
      res.writeHead(bad ? 400 : 200, { "content-type": "application/json" });
      res.end(text);
    });
    const big = "word ".repeat(3000); // ~3,750 estimated tokens: more than the bucket holds
    const first = await chat({ messages: [{ role: "user", content: big }], max_tokens: 10 }, "support", TPM_KEY);
    expect(first.status).toBe(200); // a full bucket admits one request (capped at its capacity)
    const reset = await chat({ max_tokens: -1_000_000_000 }, "support", TPM_KEY);
    await reset.text();
    const again = await chat({ messages: [{ role: "user", content: big }], max_tokens: 10 }, "support", TPM_KEY);
    await again.text();
    expect(again.status).toBe(429);
  });

  it("a request larger than the bucket is settled against what was taken, not the estimate: its usage is owed", async () => {
    await insertKey(g.store.db, { name: "metered2", keyHash: hashKey(`${TPM_KEY}2`), routes: null, rpm: null, tpm: 1000, budgetUsd: null });
    up.setAnswer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3750, completion_tokens: 1 },
        }),
      );
    });
    const big = "word ".repeat(3000); // ~3,750 estimated tokens; the bucket holds 1,000
    const first = await chat({ messages: [{ role: "user", content: big }], max_tokens: 10 }, "support", `${TPM_KEY}2`);
    await first.text();
    expect(first.status).toBe(200);
    const next = await chat({ max_tokens: 10 }, "support", `${TPM_KEY}2`);
    await next.text();
    expect(next.status).toBe(429);
    // 3,751 tokens used against 1,000 taken: ~2,750 owed at 1,000 a minute.
    expect(Number(next.headers.get("retry-after"))).toBeGreaterThanOrEqual(150);
    up.setAnswer(defaultAnswer);
  });
});

it("CARD constant is a valid card (sanity of the tests above)", () => {
  expect(CARD.replace(/ /g, "")).toHaveLength(16);
});
