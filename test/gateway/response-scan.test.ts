import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { buildDetectors, detect } from "../../src/detect/index.js";
import { ResponseScanner, scanAnswer, sentValues } from "../../src/gateway/response-scan.js";
import { listAudit } from "../../src/store/gateway.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startTestGateway } from "../support/test-gateway.js";

const detectors = buildDetectors();
const opts = (o: Partial<ConstructorParameters<typeof ResponseScanner>[0]> = {}) => ({ detectors, window: 64, redact: true, sent: new Set<string>(), ...o });

function chunked(text: string, sizes: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = Math.max(1, sizes());
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe("response scanner (hold-back window)", () => {
  it("catches an entity delivered one character at a time, and never releases part of it", () => {
    const text = `Thanks! ${"x".repeat(80)} The card on file is 4111 1111 1111 1111 and the SSN 123-45-6789; mail bob@example.org.`;
    const s = new ResponseScanner(opts());
    const released: string[] = [];
    for (const ch of text) released.push(s.push(ch));
    released.push(s.flush());
    const out = released.join("");
    expect(out).toContain("[CREDIT_CARD_REDACTED]");
    expect(out).toContain("[US_SSN_REDACTED]");
    expect(out).toContain("[EMAIL_REDACTED]");
    expect(released.some((r) => /4111|123-45|bob@/.test(r))).toBe(false);
    expect(s.counts).toEqual({ CREDIT_CARD: 1, US_SSN: 1, EMAIL: 1 });
    // The first byte waited for no more than the window.
    const first = released.findIndex((r) => r.length > 0);
    expect(first).toBeLessThanOrEqual(64 + 1);
  });

  it("gives the same result however the answer is chunked (random splits)", () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = [
      "jane.doe@example.com",
      "+44 20 7946 0958",
      "4111-1111-1111-1111",
      "GB82 WEST 1234 5698 7654 32",
      "078-05-1120",
      "10.12.0.7",
      "2001:db8::8a2e:370:7334",
    ];
    for (let trial = 0; trial < 50; trial++) {
      const parts: string[] = [];
      for (let i = 0; i < 8; i++) parts.push(`word${i} `.repeat(Math.floor(rnd() * 5)), values[Math.floor(rnd() * values.length)] as string, " ");
      const text = parts.join("");
      const whole = scanAnswer(text, opts());
      const s = new ResponseScanner(opts());
      const out =
        chunked(text, () => Math.floor(rnd() * 12))
          .map((c) => s.push(c))
          .join("") + s.flush();
      expect(out).toBe(whole.text);
      expect(s.counts).toEqual(whole.counts);
    }
  });

  it("does not count or redact what the caller sent, restores placeholders split across chunks, and can only audit", () => {
    const req = ["my email is jane@example.com"];
    const sent = sentValues(
      req,
      req.map((t) => detect(t, detectors)),
    );
    const s = new ResponseScanner(opts({ sent, placeholders: { "[PHONE_1]": "+1 415 555 2671" } }));
    const text = `Noted jane@example.com, we will call [PHONE_1] or eve@example.net.${" pad".repeat(30)}`;
    const out =
      chunked(text, () => 3)
        .map((c) => s.push(c))
        .join("") + s.flush();
    expect(out).toContain("jane@example.com");
    expect(out).toContain("+1 415 555 2671");
    expect(out).toContain("[EMAIL_REDACTED]");
    expect(s.counts).toEqual({ EMAIL: 1 });
    const audit = scanAnswer("eve@example.net", opts({ redact: false }));
    expect(audit).toEqual({ text: "eve@example.net", counts: { EMAIL: 1 } });
  });
});

describe("gateway: answers are scanned, streamed ones through the window", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  /** An upstream that streams a fixed answer in 3-character chunks, 4 ms apart. */
  async function sseUpstream(answer: string) {
    const times: { end?: number } = {};
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", async () => {
        const stream = (JSON.parse(body) as { stream?: boolean }).stream;
        if (!stream) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              id: "x",
              object: "chat.completion",
              choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
              usage: { prompt_tokens: 5, completion_tokens: 9 },
            }),
          );
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const ev = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
        ev({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
        for (const part of chunked(answer, () => 3)) {
          ev({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: part }, finish_reason: null }] });
          await new Promise((r) => setTimeout(r, 4));
        }
        ev({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
        ev({ id: "x", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 5, completion_tokens: 40 } });
        res.write("data: [DONE]\n\n");
        times.end = performance.now();
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, times };
  }

  async function gateway(upstream: string, route = "") {
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `holdBack: 48
deployments:
  - id: internal
    baseUrl: ${upstream}
    model: m
    accepts: [EMAIL, PHONE, US_SSN]
routes:
  - model: support
    targets: [internal]
    onSensitive: reroute
${route}`,
    });
    const { gw, store, close } = await startTestGateway(dir, "db.sqlite");
    closers.push(close);
    return { gw, store };
  }

  const answer = `Here is what I found in the records for you today, as requested. The SSN on file is 123-45-6789 and the backup email is ops@internal.example. ${"More text follows here. ".repeat(6)}`;

  it("redacts an entity split across streamed chunks; the first byte is not held back past the window", async () => {
    const up = await sseUpstream(answer);
    const { gw, store } = await gateway(up.url);
    const t0 = performance.now();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer wb_test" },
      body: JSON.stringify({ model: "support", stream: true, messages: [{ role: "user", content: "look me up" }] }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let raw = "";
    let firstContentAt: number | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += new TextDecoder().decode(value);
      if (firstContentAt === undefined && /"content":"[^"]+"/.test(raw)) firstContentAt = performance.now() - t0;
    }
    const events = raw
      .split("\n\n")
      .filter((e) => e.startsWith("data: ") && !e.includes("[DONE]"))
      .map((e) => JSON.parse(e.slice(6)) as { choices: { delta?: { content?: string } }[] });
    const text = events.map((e) => e.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe(answer.replace("123-45-6789", "[US_SSN_REDACTED]").replace("ops@internal.example", "[EMAIL_REDACTED]"));
    expect(raw).not.toMatch(/123-45|ops@/);
    expect(raw).toContain("data: [DONE]");
    // ~330 characters arrive over ~440 ms; the first text left long before the upstream finished.
    expect(firstContentAt).toBeDefined();
    expect((firstContentAt as number) < (up.times.end as number) - t0 - 150).toBe(true);
    const row = (await listAudit(store.db)).at(-1);
    expect(row).toMatchObject({ status: 200, response_classes: { US_SSN: 1, EMAIL: 1 }, output_tokens: 40 });
  });

  it("scans whole answers too, and with onSensitiveResponse: audit only counts", async () => {
    const up = await sseUpstream(answer);
    const { gw, store } = await gateway(up.url, "    onSensitiveResponse: audit\n");
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer wb_test" },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: "look me up" }] }),
    });
    const j = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(j.choices[0]?.message.content).toBe(answer);
    expect((await listAudit(store.db)).at(-1)?.response_classes).toEqual({ US_SSN: 1, EMAIL: 1 });
  });
});
