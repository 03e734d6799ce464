import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLeanServer, type Reply, type Request } from "../../src/gateway/http-server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server that answers each request with what it saw, as JSON; `stream` answers in pieces. */
async function serve(onRequest?: (req: Request, reply: Reply) => void, bodyLimit = 1024, requestTimeoutMs?: number) {
  const seen: Request[] = [];
  const lean = createLeanServer({
    bodyLimit,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    onRequest:
      onRequest ??
      ((req, reply) => {
        seen.push(req);
        const out = JSON.stringify({ method: req.method, url: req.url, body: req.body.toString("utf8"), tooLarge: req.tooLarge, headers: req.headers });
        reply.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
        reply.end(out);
      }),
  });
  await new Promise<void>((r) => lean.server.listen(0, "127.0.0.1", () => r()));
  closers.push(() => lean.close());
  const port = (lean.server.address() as net.AddressInfo).port;
  return { port, seen, url: `http://127.0.0.1:${port}` };
}

/** Send raw bytes; resolve with everything the server sent until it closed (or `ms` passed). */
function raw(port: number, data: string | string[], ms = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let text = "";
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, ms);
    s.on("data", (d) => {
      text += d.toString("latin1");
    });
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve({ text, closed: true });
    });
    s.on("connect", async () => {
      for (const part of typeof data === "string" ? [data] : data) {
        s.write(part);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

describe("lean HTTP/1.1 server", () => {
  it("serves a real client: JSON bodies, keep-alive, HEAD, streamed answers", async () => {
    const { url, seen } = await serve();
    const a = await fetch(`${url}/v1/x?q=1`, { method: "POST", body: '{"a":"ü"}', headers: { "content-type": "application/json" } });
    expect(await a.json()).toMatchObject({ method: "POST", url: "/v1/x?q=1", body: '{"a":"ü"}', headers: { "content-type": "application/json" } });
    const b = await fetch(url);
    expect(b.status).toBe(200);
    await b.text();
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(seen.map((r) => r.method)).toEqual(["POST", "GET", "HEAD"]);

    const streaming = await serve((_req, reply) => {
      reply.writeHead(200, { "content-type": "text/event-stream" });
      reply.write("data: one\n\n");
      setTimeout(() => {
        reply.write("data: zwei ü\n\n");
        reply.end();
      }, 20);
    });
    const s = await fetch(streaming.url);
    expect(s.headers.get("transfer-encoding")).toBe("chunked");
    expect(await s.text()).toBe("data: one\n\ndata: zwei ü\n\n");
  });

  it("reads chunked bodies and bodies split across packets; answers pipelined requests in order", async () => {
    const { port } = await serve();
    const chunked = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer: t\r\n\r\n";
    const r1 = await raw(port, [chunked.slice(0, 30), chunked.slice(30, 61), chunked.slice(61)], 400);
    expect(r1.text).toContain('"body":"abcdefg"');
    const pipelined =
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const r2 = await raw(port, pipelined);
    expect(r2.closed).toBe(true); // the last asked to close
    expect([...r2.text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1])).toEqual(["/1", "/2", "/3"]);
    expect(r2.text).toContain('"body":"hi"');
  });

  it("refuses ambiguous or malformed framing with a 4xx/5xx and closes (no request smuggling)", async () => {
    const { port, seen } = await serve();
    const cases: [string, number][] = [
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
      ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost x\r\n\r\n", 400],
      ["GARBAGE\r\n\r\n", 400],
      ["GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\n\r\n", 505],
      ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`, 431],
    ];
    for (const [req, status] of cases) {
      const r = await raw(port, req);
      expect({ req: req.slice(0, 60), status: statuses(r.text) }).toEqual({ req: req.slice(0, 60), status: [status] });
      expect(r.closed).toBe(true);
      expect(r.text).toContain('"code":"bad_http_request"');
    }
    expect(seen).toHaveLength(0);
  });

  it("marks bodies over the limit (read past, not kept) and closes after the answer", async () => {
    const { port } = await serve(undefined, 16);
    const r = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n${"x".repeat(40)}`);
    expect(r.text).toContain('"tooLarge":true,');
    expect(r.text).toContain('"body":""');
    expect(r.text).toMatch(/connection: close/i);
    expect(r.closed).toBe(true);
    const c = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n${"y".repeat(32)}\r\n0\r\n\r\n`);
    expect(c.text).toContain('"tooLarge":true,');
    expect(c.closed).toBe(true);
  });

  it("honours Expect: 100-continue and HTTP/1.0 keep-alive rules", async () => {
    const { port } = await serve();
    const r = await raw(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "ok"]);
    expect(statuses(r.text)).toEqual([100, 200]);
    expect(r.text).toContain('"body":"ok"');
    const old = await raw(port, "GET / HTTP/1.0\r\n\r\n");
    expect(old.closed).toBe(true);
    expect(old.text).toMatch(/connection: close/i);
    const kept = await raw(port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 300);
    expect(kept.closed).toBe(false);
    expect(kept.text).toMatch(/connection: keep-alive/i);
  });

  it("answers 408 to a request that keeps dribbling in past the deadline", async () => {
    const { port, seen } = await serve(undefined, 1024, 400);
    const parts = Array.from({ length: 40 }, (_, i) => (i === 0 ? "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " : "a"));
    const started = Date.now();
    const r = await raw(port, parts, 3000); // a byte every 20 ms: never silent long enough for an idle timeout
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen).toHaveLength(0);
  });

  it("answers 500 when the handler throws, and keeps serving", async () => {
    let n = 0;
    const { url } = await serve((_req, reply) => {
      if (n++ === 0) throw new Error("boom");
      reply.end("fine");
    });
    const r = await fetch(url);
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/boom/);
    expect(await (await fetch(url)).text()).toBe("fine");
  });

  it("rejects header values that would split the answer", async () => {
    let thrown: unknown;
    const { url } = await serve((_req, reply) => {
      try {
        reply.writeHead(200, { "x-a": "1\r\nSet-Cookie: evil=1" });
      } catch (e) {
        thrown = e;
        reply.writeHead(500, { "content-length": 0 });
        reply.end("");
      }
    });
    expect((await fetch(url)).status).toBe(500);
    expect(String(thrown)).toMatch(/line break/);
  });
});
