import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpServer, type HttpServerOptions, type InboundRequest, type Reply } from "../../src/net/index.js";
import { rawExchange } from "./raw.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server that answers each request with what it saw, as JSON. */
async function serve(onRequest?: (req: InboundRequest, reply: Reply) => void | Promise<void>, o: Partial<HttpServerOptions> = {}) {
  const seen: InboundRequest[] = [];
  const errors: unknown[] = [];
  const s = createHttpServer({
    bodyLimit: 1024,
    onHandlerError: (e) => errors.push(e),
    ...o,
    onRequest:
      onRequest ??
      ((req, reply) => {
        seen.push(req);
        const out = JSON.stringify({ method: req.method, url: req.url, body: req.body.toString("utf8"), tooLarge: req.tooLarge, headers: req.headers });
        reply.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
        reply.end(out);
      }),
  });
  const addr = await s.listen(0, "127.0.0.1");
  closers.push(() => s.close());
  return { port: addr.port, seen, errors, url: `http://127.0.0.1:${addr.port}`, close: s.close };
}

describe("net server (node:http with limits)", () => {
  it("serves a real client: JSON bodies, keep-alive, HEAD, streamed answers", async () => {
    const { url, port } = await serve((req, reply) => {
      if (req.url === "/stream") {
        reply.writeHead(200, { "content-type": "text/event-stream" });
        reply.write("data: 1\n\n");
        setTimeout(() => reply.end("data: 2\n\n"), 20);
        return;
      }
      reply.writeHead(200, { "content-type": "application/json", connection: "close" }); // the server decides
      reply.end(JSON.stringify({ got: JSON.parse(req.body.toString() || "null") }));
    });
    const r = await fetch(url, { method: "POST", body: JSON.stringify({ a: 1 }) });
    expect(await r.json()).toEqual({ got: { a: 1 } });
    expect(r.headers.get("connection")).toBe("keep-alive");
    expect(await (await fetch(`${url}/stream`)).text()).toBe("data: 1\n\ndata: 2\n\n");
    const head = await rawExchange(port, ["HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"], { idleMs: 200 });
    expect(head.statuses).toEqual([200]);
    expect(head.text).not.toContain("got");
  });

  it("reads chunked bodies and bodies split across packets; answers pipelined requests in order, one at a time", async () => {
    let active = 0;
    let most = 0;
    const order: string[] = [];
    const { port } = await serve(async (req, reply) => {
      active++;
      most = Math.max(most, active);
      await sleep(req.body.toString() === "a" ? 30 : 1); // the first is slowest: answers must still come in order
      order.push(req.body.toString());
      active--;
      reply.end(req.body.toString());
    });
    const r = await rawExchange(port, [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\naPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb",
      "\r\n0\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nc",
    ]);
    expect(r.statuses).toEqual([200, 200, 200]);
    expect(order).toEqual(["a", "b", "c"]);
    expect(most).toBe(1);
    expect(r.text.replace(/HTTP[\s\S]*?\r\n\r\n/g, "|")).toBe("|a|b|c");
  });

  it("marks bodies over the limit (read past, not kept), closes after the answer, and dispatches nothing after it", async () => {
    const { port, seen } = await serve(undefined, { bodyLimit: 16 });
    const next = "POST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz";
    const r = await rawExchange(port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n${"x".repeat(40)}${next}`, next]);
    expect(r.statuses).toEqual([200]);
    expect(r.text).toContain('"tooLarge":true,');
    expect(r.text).toContain('"body":""');
    expect(r.text).toMatch(/connection: close/i);
    expect(r.closed).toBe(true);
    const c = await rawExchange(port, [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n${"y".repeat(32)}\r\n0\r\n\r\n`, next]);
    expect(c.text).toContain('"tooLarge":true,');
    expect(c.closed).toBe(true);
    expect(seen.map((s) => s.url)).toEqual(["/", "/"]);
  });

  it("honours Expect: 100-continue and HTTP/1.0 keep-alive rules", async () => {
    const { port } = await serve();
    const r = await rawExchange(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "ok"]);
    expect(r.statuses).toEqual([100, 200]);
    expect(r.text).toContain('"body":"ok"');
    const old = await rawExchange(port, ["GET / HTTP/1.0\r\n\r\n"]);
    expect(old.closed).toBe(true);
    expect(old.text).toMatch(/connection: close/i);
    const kept = await rawExchange(port, ["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"], { idleMs: 300 });
    expect(kept.closed).toBe(false);
    expect(kept.text).toMatch(/connection: keep-alive/i);
  });

  it("answers what llhttp refuses with node's status and the OpenAI error body, then closes", async () => {
    const { port, seen } = await serve();
    const r = await rawExchange(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]);
    expect(r.statuses).toEqual([400]);
    expect(r.closed).toBe(true);
    const json = JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4)) as { error: { type: string; code: string } };
    expect(json.error).toMatchObject({ type: "invalid_request_error", code: "bad_http_request" });
    const big = await rawExchange(port, [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(17 * 1024)}\r\n\r\n`]);
    expect(big.statuses).toEqual([431]);
    expect(big.text).toContain('"code":"bad_http_request"');
    expect(seen).toHaveLength(0);
  });

  it("answers 408 to a request that keeps dribbling in past the deadline", async () => {
    const { port, seen } = await serve(undefined, { requestTimeoutMs: 400 });
    const parts = Array.from({ length: 60 }, (_, i) => (i === 0 ? "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " : "a"));
    const started = Date.now();
    const r = await rawExchange(port, parts, { gapMs: 20 }); // a byte every 20 ms: never silent long enough for an idle timeout
    expect(r.statuses).toEqual([408]);
    expect(r.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(seen).toHaveLength(0);
  });

  it("answers 500 in the OpenAI error shape when the handler throws or rejects, tells onHandlerError, and keeps serving", async () => {
    let n = 0;
    const { url, errors } = await serve(async (_req, reply) => {
      n++;
      if (n === 1) throw new Error("boom");
      if (n === 2) return Promise.reject(new Error("later boom"));
      reply.end("fine");
    });
    for (const msg of ["boom", "later boom"]) {
      const r = await fetch(url);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: { message: `internal error: ${msg}`, type: "server_error", code: "internal_error", param: null } });
    }
    expect(await (await fetch(url)).text()).toBe("fine");
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom", "later boom"]);
  });

  it("refuses header values that would split the answer (the handler's writeHead throws)", async () => {
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
    const r = await fetch(url);
    expect(r.status).toBe(500);
    expect(r.headers.get("set-cookie")).toBeNull();
    expect((thrown as { code?: string }).code).toBe("ERR_INVALID_CHAR");
  });

  it("close() lets an answer in progress finish and closes idle keep-alive connections", async () => {
    const { port, close } = await serve(async (_req, reply) => {
      await sleep(150);
      reply.end("done");
    });
    const idle = net.connect(port, "127.0.0.1");
    const idleClosed = new Promise<void>((r) => idle.once("close", () => r()));
    idle.on("error", () => {});
    const pending = rawExchange(port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    await sleep(50);
    const closing = close();
    const r = await pending;
    expect(r.statuses).toEqual([200]);
    expect(r.text).toMatch(/connection: close/i);
    await idleClosed;
    await closing;
  });
});
