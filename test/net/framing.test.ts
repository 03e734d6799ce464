/**
 * Raw-socket framing cases (request smuggling and malformed HTTP/1.1), each sent byte for byte to a
 * plain node:http reference server and to the gateway in front of an upstream that logs what it
 * receives. The gateway must answer as node:http does (statuses, close) and what reaches the
 * upstream must be what the reference dispatched — a smuggled request never.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, writeFiles } from "../support/project.js";
import { startTestGateway } from "../support/test-gateway.js";
import { type RawResult, rawExchange } from "./raw.js";

const HEAD = "Host: gw\r\nAuthorization: Bearer wb_test\r\nContent-Type: application/json\r\n";
const PATH = "POST /v1/chat/completions HTTP/1.1\r\n";
const body = (marker: string) => JSON.stringify({ model: "support", messages: [{ role: "user", content: marker }] });
/** A whole valid request carrying `marker`, framed by Content-Length. */
const post = (marker: string, extra = "") => `${PATH}${HEAD}${extra}Content-Length: ${body(marker).length}\r\n\r\n${body(marker)}`;
const head = (extra: string) => `${PATH}${HEAD}${extra}\r\n`;
const hex = (s: string) => s.length.toString(16);
const chunkedBody = (s: string) => `${hex(s)}\r\n${s}\r\n0\r\n\r\n`;
const SMUGGLED = post("SMUGGLED");

/** Markers seen by a handler: the message content of every request it was given. */
function markerOf(raw: string): string {
  try {
    return (JSON.parse(raw) as { messages: { content: string }[] }).messages[0]?.content ?? "?";
  } catch {
    return "";
  }
}

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
}

/** A handler that records markers and answers 200 (JSON with a marker) or 400 (anything else), as the gateway does. */
function recording(log: string[], upstream: boolean): Server {
  return createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const m = markerOf(Buffer.concat(parts).toString("utf8"));
      if (m) log.push(m);
      const answer = upstream
        ? JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] })
        : "{}";
      res.writeHead(m || upstream ? 200 : 400, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
}

interface Case {
  name: string;
  segments: string[];
  /** The gateway is stricter than node:http here: what it answers instead. */
  stricter?: number[];
}

const te = (v: string) => `Transfer-Encoding: ${v}\r\n`;
const clte = (teLine: string): string => {
  const rest = `0\r\n\r\n${SMUGGLED}`;
  return head(`Content-Length: ${rest.length}\r\n${teLine}`) + rest;
};
const tecl = (teLine: string): string => head(`${teLine}Content-Length: 4\r\n`) + `${hex(SMUGGLED)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
const withCl = (clValue: string, marker = "A") => `${head(`Content-Length: ${clValue}\r\n`)}${body(marker)}${SMUGGLED}`;
const chunkLine = (line: string) => `${head(te("chunked"))}${line}\r\n${body("A")}\r\n0\r\n\r\n${SMUGGLED}`;
const len = body("A").length;

const TE_VARIANTS = [
  "chunked",
  "chunked\x0b",
  "chunked, identity",
  "identity, chunked",
  "xchunked",
  "CHUNKED",
  " chunked",
  "\tchunked",
  "chunked ",
  "chunked\x00",
  "chunked\r\nTransfer-Encoding: identity",
  "chunked\r\nTransfer-Encoding: chunked",
  "identity\r\nTransfer-Encoding: chunked",
];
const CASES: Case[] = [
  ...TE_VARIANTS.flatMap((v) => [
    { name: `CL.TE ${JSON.stringify(v)}`, segments: [clte(te(v))] },
    { name: `TE.CL ${JSON.stringify(v)}`, segments: [tecl(te(v))] },
    { name: `TE only ${JSON.stringify(v)}`, segments: [head(te(v)) + chunkedBody(body("A")) + SMUGGLED] },
  ]),
  { name: "TE name with a space before the colon", segments: [clte("Transfer-Encoding : chunked\r\n")] },
  { name: "TE name with a tab before the colon", segments: [clte("Transfer-Encoding\t: chunked\r\n")] },
  { name: "TE name with an underscore", segments: [clte("Transfer_Encoding: chunked\r\n")] },
  { name: "CL with a no-break space", segments: [withCl(`\xa0${len}`)] },
  { name: "CL with a plus sign", segments: [withCl(`+${len}`)] },
  { name: "CL as a list", segments: [withCl(`${len}, ${len + 1}`)] },
  { name: "CL as a list of equal values", segments: [withCl(`${len}, ${len}`)] },
  { name: "CL with leading zeros", segments: [withCl(`000${len}`)] },
  { name: "CL negative", segments: [withCl("-1")] },
  { name: "CL in hex", segments: [withCl(`0x${hex(body("A"))}`)] },
  { name: "CL with a vertical tab", segments: [withCl(`${len}\x0b`)] },
  { name: "CL twice, equal", segments: [head(`Content-Length: ${len}\r\nContent-Length: ${len}\r\n`) + body("A") + SMUGGLED] },
  { name: "CL twice, different", segments: [head(`Content-Length: ${len}\r\nContent-Length: ${len + 5}\r\n`) + body("A") + SMUGGLED] },
  { name: "chunk size with an extension holding a bare LF", segments: [chunkLine(`${hex(body("A"))};a\nb`)] },
  { name: "chunk size with a leading space", segments: [chunkLine(` ${hex(body("A"))}`)] },
  { name: "chunk size with a trailing space", segments: [chunkLine(`${hex(body("A"))} `)] },
  { name: "chunk size with 0x", segments: [chunkLine(`0x${hex(body("A"))}`)] },
  { name: "chunk size negative", segments: [chunkLine(`-${hex(body("A"))}`)] },
  { name: "chunk size overflowing 64 bits", segments: [chunkLine(`1${"0".repeat(16)}${hex(body("A"))}`)] },
  { name: "chunk extension (valid)", segments: [chunkLine(`${hex(body("A"))};ext=1`)] },
  { name: "chunk extension quoted (valid)", segments: [chunkLine(`${hex(body("A"))};ext="q"`)] },
  { name: "trailer ending in bare LFs, then a request", segments: [`${head(te("chunked"))}${hex(body("A"))}\r\n${body("A")}\r\n0\r\nX: 1\n\n${SMUGGLED}`] },
  {
    name: "valid trailer, then a pipelined request",
    segments: [`${head(te("chunked"))}${chunkedBody(body("A")).replace(/0\r\n\r\n$/, "0\r\nX: 1\r\n\r\n")}${post("B")}`],
  },
  { name: "bare LF ending the request line", segments: [post("A").replace("HTTP/1.1\r\n", "HTTP/1.1\n") + SMUGGLED] },
  { name: "bare LF ending a header", segments: [post("A").replace("Host: gw\r\n", "Host: gw\n") + SMUGGLED] },
  { name: "bare LFs ending the head", segments: [post("A").replace(/\r\n\r\n/, "\n\n") + SMUGGLED] },
  { name: "bare CR in a header value", segments: [post("A", "X-A: a\rb\r\n") + SMUGGLED] },
  { name: "obs-fold", segments: [post("A", "X-Fold: a\r\n b\r\n") + SMUGGLED] },
  { name: "obs-fold continuing Transfer-Encoding", segments: [clte("Transfer-Encoding: identity\r\n chunked\r\n")] },
  { name: "control character in a value (SOH)", segments: [post("A", "X-A: a\x01b\r\n") + SMUGGLED] },
  { name: "control character in a value (DEL)", segments: [post("A", "X-A: a\x7fb\r\n") + SMUGGLED] },
  { name: "control character in a value (NUL)", segments: [post("A", "X-A: a\x00b\r\n") + SMUGGLED] },
  { name: "no Host", segments: [post("A").replace("Host: gw\r\n", "") + SMUGGLED] },
  { name: "two Host headers", segments: [post("A", "Host: other\r\n")], stricter: [400] },
  { name: "a 17 KB head", segments: [post("A", `X-Big: ${"a".repeat(17 * 1024)}\r\n`) + SMUGGLED] },
  { name: "150 header lines", segments: [post("A", Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join(""))], stricter: [431] },
  { name: "HTTP/1.0 with chunked", segments: [head(te("chunked")).replace("HTTP/1.1", "HTTP/1.0") + chunkedBody(body("A")) + SMUGGLED] },
  { name: "request line with two spaces", segments: [post("A").replace("POST /", "POST  /") + SMUGGLED] },
  { name: "pipelining after a refusal (tail in a later segment)", segments: [clte(te("chunked")), SMUGGLED] },
  { name: "pipelining after a bad chunk (tail in a later segment)", segments: [`${head(te("chunked"))}zz\r\n`, SMUGGLED] },
  { name: "pipelining after Connection: close (same segment)", segments: [post("A", "Connection: close\r\n") + SMUGGLED] },
  { name: "pipelining after Connection: close (tail in a later segment)", segments: [post("A", "Connection: close\r\n"), SMUGGLED] },
  { name: "plain pipelining", segments: [post("A") + post("B") + post("C")] },
  { name: "plain pipelining across segments", segments: [post("A") + post("B").slice(0, 30), post("B").slice(30)] },
];

let refPort = 0;
let gwPort = 0;
const refLog: string[] = [];
const upLog: string[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const ref = recording(refLog, false);
  refPort = await listen(ref);
  const up = recording(upLog, true);
  const upPort = await listen(up);
  closers.push(
    () => new Promise((r) => ref.close(() => r())),
    () => new Promise((r) => up.close(() => r())),
  );
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - id: up
    baseUrl: http://127.0.0.1:${upPort}/v1
    model: m
    accepts: []
routes:
  - model: support
    targets: [up]
    onSensitive: block
`,
  });
  const t = await startTestGateway(dir, "gw.db");
  gwPort = Number(new URL(t.gw.url).port);
  closers.unshift(t.close);
  ref.closeAllConnections();
});

afterAll(async () => {
  for (const c of closers) await c();
});

async function both(c: Case): Promise<{ ref: RawResult; gw: RawResult; refSeen: string[]; upSeen: string[] }> {
  refLog.length = 0;
  upLog.length = 0;
  const ref = await rawExchange(refPort, c.segments, { idleMs: 500 });
  const gw = await rawExchange(gwPort, c.segments, { idleMs: 500 });
  return { ref, gw, refSeen: [...refLog], upSeen: [...upLog] };
}

describe("framing: the gateway answers as node:http does, and nothing smuggled reaches the upstream", () => {
  for (const c of CASES)
    it(c.name, async () => {
      const r = await both(c);
      // After a refusal or a closing answer nothing more is served: a later request is smuggled, not pipelined.
      const refused = r.gw.statuses.some((s) => s >= 400) || r.ref.statuses.some((s) => s >= 400) || c.segments.some((s) => s.includes("Connection: close"));
      if (refused) expect(r.upSeen).not.toContain("SMUGGLED");
      if (c.stricter) {
        expect(r.gw.statuses).toEqual(c.stricter);
        expect(r.gw.closed).toBe(true);
        expect(r.upSeen).toEqual([]);
        return;
      }
      expect({ statuses: r.gw.statuses, closed: r.gw.closed }).toEqual({ statuses: r.ref.statuses, closed: r.ref.closed });
      expect(r.upSeen).toEqual(refused ? r.refSeen.filter((m) => m !== "SMUGGLED") : r.refSeen);
    });
});

describe("the gateway's own refusals close the connection and dispatch nothing after them", () => {
  it("a body over the limit (413), with a request behind it in the same and in a later segment", async () => {
    upLog.length = 0;
    const big = 9 * 1024 * 1024;
    const r = await rawExchange(gwPort, [head(`Content-Length: ${big}\r\n`), `${"x".repeat(big)}${SMUGGLED}`, SMUGGLED], { idleMs: 1000 });
    expect(r.statuses).toEqual([413]);
    expect(r.text).toMatch(/connection: close/i);
    expect(r.closed).toBe(true);
    expect(upLog).toEqual([]);
  });
});
