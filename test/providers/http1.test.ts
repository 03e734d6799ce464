import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { proxyFor } from "../../src/providers/http.js";
import { Http1Pool, HttpParseError, type ResponseHeaders, ResponseParser } from "../../src/providers/http1.js";
import { selfSignedCert } from "../support/certs.js";
import { startForwardProxy } from "../support/forward-proxy.js";
import { tempDir } from "../support/project.js";

function parseAll(pieces: Buffer[], close = false): { status: number; headers: ResponseHeaders; body: string; complete: boolean } {
  let status = 0;
  let headers: ResponseHeaders = {};
  const body: Buffer[] = [];
  let complete = false;
  const p = new ResponseParser({
    onHead: (s, h) => {
      status = s;
      headers = h;
    },
    onData: (b) => body.push(Buffer.from(b)),
    onComplete: () => {
      complete = true;
    },
  });
  for (const piece of pieces) p.execute(piece);
  if (close) p.finish();
  return { status, headers, body: Buffer.concat(body).toString("utf8"), complete };
}

/** Every way of cutting `raw` in two, plus byte by byte. */
function splits(raw: string): Buffer[][] {
  const b = Buffer.from(raw);
  const out: Buffer[][] = [[...b].map((x) => Buffer.from([x]))];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

describe("ResponseParser", () => {
  const chunked =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Two: 1\r\nX-Two: 2\r\n\r\n" +
    '7;ext=1\r\ndata: {\r\n3\r\n"é\r\n2\r\n}\n\r\n0\r\nX-Trailer: yes\r\n\r\n';

  it("reads a chunked body with extensions and trailers, however the bytes are cut", () => {
    for (const pieces of splits(chunked)) {
      const r = parseAll(pieces);
      expect(r).toEqual({
        status: 200,
        headers: { "content-type": "text/event-stream", "transfer-encoding": "chunked", "set-cookie": ["a=1", "b=2"], "x-two": "1, 2" },
        body: 'data: {"é}\n',
        complete: true,
      });
    }
  });

  it("reads Content-Length bodies, skips 100 Continue, and knows 204 has no body", () => {
    for (const pieces of splits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello"))
      expect(parseAll(pieces)).toMatchObject({ status: 201, body: "hello", complete: true });
    expect(parseAll([Buffer.from("HTTP/1.1 204 No Content\r\n\r\n")])).toMatchObject({ status: 204, body: "", complete: true });
  });

  it("ends a body without length at the close, and marks the connection not reusable", () => {
    const p = new ResponseParser({ onHead: () => undefined, onData: () => undefined, onComplete: () => undefined });
    p.execute(Buffer.from("HTTP/1.0 200 OK\r\n\r\npartial"));
    expect(p.done).toBe(false);
    p.finish();
    expect(p.done).toBe(true);
    expect(p.keepAlive).toBe(false);
    expect(parseAll([Buffer.from("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")])).toMatchObject({ body: "ok", complete: true });
  });

  it("rejects what is not HTTP/1.x, and truncated answers", () => {
    const bad = [
      "SSH-2.0-OpenSSH\r\n\r\n",
      "HTTP/2 200\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    ];
    for (const raw of bad) expect(() => parseAll([Buffer.from(raw)]), raw).toThrow(HttpParseError);
    expect(() => parseAll([Buffer.from(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}`)])).toThrow(/head larger than/);
    expect(() => parseAll([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")], true)).toThrow(/closed before the answer ended/);
    expect(() => parseAll([], true)).toThrow(/closed before the answer began/);
  });
});

describe("Http1Pool", () => {
  let server: Server | ReturnType<typeof createTcpServer> | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  const call = (pool: Http1Pool, body = "{}", headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      let status = 0;
      const parts: Buffer[] = [];
      pool.post("/v1/x", headers, body, {
        onHead: (s) => {
          status = s;
        },
        onData: (b) => parts.push(Buffer.from(b)),
        onEnd: () => resolve({ status, text: Buffer.concat(parts).toString() }),
        onError: reject,
      });
    });

  async function httpServer(handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, body: string) => void) {
    const sockets = new Set<Socket>();
    let open = 0;
    let maxOpen = 0;
    const s = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => handler(req, res, body));
    });
    s.on("connection", (c: Socket) => {
      sockets.add(c);
      maxOpen = Math.max(maxOpen, ++open);
      c.on("close", () => open--);
    });
    server = s;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return { url: new URL(`http://127.0.0.1:${(s.address() as import("node:net").AddressInfo).port}`), sockets, maxOpen: () => maxOpen };
  }

  it("keeps one connection alive across requests, sends Host, Content-Length and the body in order", async () => {
    const seen: string[] = [];
    const srv = await httpServer((req, res, body) => {
      seen.push(`${req.headers.host} ${req.headers["content-length"]} ${req.headers["x-key"]} ${body}`);
      res.end(`echo ${body}`);
    });
    const pool = new Http1Pool(srv.url, { connections: 4 });
    for (let i = 0; i < 5; i++) expect(await call(pool, `{"i":${i}}`, { "x-key": "k" })).toEqual({ status: 200, text: `echo {"i":${i}}` });
    expect(srv.sockets.size).toBe(1);
    expect(seen[4]).toBe(`${srv.url.host} 7 k {"i":4}`);
    pool.close();
  });

  it("opens no more than `connections`; the rest wait their turn", async () => {
    const srv = await httpServer((_req, res, body) => setTimeout(() => res.end(body), 20));
    const pool = new Http1Pool(srv.url, { connections: 2 });
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => call(pool, String(i))));
    expect(answers.map((a) => a.text)).toEqual(Array.from({ length: 9 }, (_, i) => String(i)));
    expect(srv.maxOpen()).toBe(2);
    pool.close();
  });

  it("does not reuse a connection the server said to close", async () => {
    const srv = await httpServer((_req, res) => {
      res.setHeader("connection", "close");
      res.end("bye");
    });
    const pool = new Http1Pool(srv.url, { connections: 1 });
    expect((await call(pool)).text).toBe("bye");
    expect((await call(pool)).text).toBe("bye");
    expect(srv.sockets.size).toBe(2);
    pool.close();
  });

  it("turns a server speaking something else into an error, not a hang", async () => {
    const s = createTcpServer((c) => {
      c.resume(); // read (and drop) the request, so the client's close is seen
      c.end("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    });
    server = s;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const pool = new Http1Pool(new URL(`http://127.0.0.1:${(s.address() as import("node:net").AddressInfo).port}`), { connections: 1 });
    await expect(call(pool)).rejects.toThrow(/not an HTTP\/1.x status line/);
    pool.close();
  });

  it("refuses header values with line breaks (no header injection from an API key)", async () => {
    const srv = await httpServer((_req, res) => res.end("x"));
    const pool = new Http1Pool(srv.url, { connections: 1 });
    expect(() => pool.post("/", { authorization: "Bearer a\r\nX-Evil: 1" }, "{}", { onHead() {}, onData() {}, onEnd() {}, onError() {} })).toThrow(
      /line break/,
    );
    pool.close();
  });

  it("speaks TLS: verifies the certificate (refused when untrusted, accepted with its CA)", async () => {
    const made = selfSignedCert(tempDir(), "localhost", "/CN=localhost", ["-addext", "subjectAltName=DNS:localhost"]);
    const cert = readFileSync(made.cert);
    const s = createTlsServer({ key: readFileSync(made.key), cert }, (_req, res) => res.end("secure"));
    server = s;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const url = new URL(`https://localhost:${(s.address() as import("node:net").AddressInfo).port}`);
    const untrusted = new Http1Pool(url, { connections: 1 });
    await expect(call(untrusted)).rejects.toThrow(/self-signed certificate/);
    untrusted.close();
    const trusted = new Http1Pool(url, { connections: 1, tls: { ca: cert } });
    expect(await call(trusted)).toEqual({ status: 200, text: "secure" });
    trusted.close();
  });
});

describe("through a proxy", () => {
  const servers: { close(cb: () => void): void }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
  const listen = async <S extends import("node:net").Server>(s: S): Promise<number> => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return (s.address() as import("node:net").AddressInfo).port;
  };
  const post = (pool: Http1Pool) =>
    new Promise<string>((resolve, reject) => {
      const parts: Buffer[] = [];
      pool.post("/v1/x", {}, '{"q":1}', {
        onHead() {},
        onData: (b) => parts.push(Buffer.from(b)),
        onEnd: () => resolve(Buffer.concat(parts).toString()),
        onError: reject,
      });
    });

  async function proxyServer(opts: { refuse?: boolean } = {}) {
    const proxy = await startForwardProxy(opts);
    servers.push({ close: (cb) => void proxy.close().then(cb) });
    return proxy;
  }

  it("tunnels https with CONNECT (credentials sent, one tunnel reused) and verifies the target's certificate", async () => {
    const made = selfSignedCert(tempDir(), "localhost", "/CN=localhost", ["-addext", "subjectAltName=DNS:localhost"]);
    const cert = readFileSync(made.cert);
    const port = await listen(createTlsServer({ key: readFileSync(made.key), cert }, (req, res) => req.resume().on("end", () => res.end(`tls ${req.url}`))));
    const proxy = await proxyServer();
    const pool = new Http1Pool(new URL(`https://localhost:${port}`), { connections: 1, proxy: proxy.url, tls: { ca: cert } });
    expect(await post(pool)).toBe("tls /v1/x");
    expect(await post(pool)).toBe("tls /v1/x");
    expect(proxy.seen.connects).toEqual([`localhost:${port}`]);
    expect(proxy.seen.auth[0]).toBe(`Basic ${Buffer.from("user:secret").toString("base64")}`);
    pool.close();
    const untrusted = new Http1Pool(new URL(`https://localhost:${port}`), { connections: 1, proxy: proxy.url });
    await expect(post(untrusted)).rejects.toThrow(/self-signed certificate/);
    untrusted.close();
  });

  it("fails clearly when the proxy refuses the tunnel", async () => {
    const proxy = await proxyServer({ refuse: true });
    const pool = new Http1Pool(new URL("https://api.example.com"), { connections: 1, proxy: proxy.url });
    await expect(post(pool)).rejects.toThrow(/the proxy refused the tunnel to api\.example\.com: HTTP\/1\.1 407/);
    pool.close();
  });

  it("sends plain-http requests in absolute form", async () => {
    const port = await listen(createServer((req, res) => req.resume().on("end", () => res.end(`plain ${req.url} ${req.headers.host}`))));
    const proxy = await proxyServer();
    const pool = new Http1Pool(new URL(`http://127.0.0.1:${port}`), { connections: 1, proxy: proxy.url });
    expect(await post(pool)).toBe(`plain /v1/x 127.0.0.1:${port}`);
    expect(proxy.seen.forwarded).toEqual([`POST http://127.0.0.1:${port}/v1/x`]);
    expect(proxy.seen.auth[0]).toMatch(/^Basic /);
    pool.close();
  });
});

describe("proxyFor (the environment, as curl reads it)", () => {
  const u = (s: string) => new URL(s);
  it("uses https_proxy for https and http_proxy for http, lower case first", () => {
    const env = { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2", HTTP_PROXY: "proxy.local:3128" };
    expect(proxyFor(u("https://api.example.com/v1"), env)?.href).toBe("http://lower:2/");
    expect(proxyFor(u("http://api.example.com/v1"), env)?.href).toBe("http://proxy.local:3128/");
    expect(proxyFor(u("https://api.example.com"), {})).toBeUndefined();
  });
  it("honours NO_PROXY (exact, suffixes, ports, *) and never proxies loopback", () => {
    const env = { HTTPS_PROXY: "http://p:1", NO_PROXY: "internal.example.com, .corp, *.lab, vllm:8443" };
    expect(proxyFor(u("https://internal.example.com"), env)).toBeUndefined();
    expect(proxyFor(u("https://a.internal.example.com"), env)).toBeUndefined();
    expect(proxyFor(u("https://gpu.corp"), env)).toBeUndefined();
    expect(proxyFor(u("https://x.lab"), env)).toBeUndefined();
    expect(proxyFor(u("https://vllm:8443"), env)).toBeUndefined();
    expect(proxyFor(u("https://vllm"), env)?.host).toBe("p:1");
    expect(proxyFor(u("https://example.com"), env)?.host).toBe("p:1");
    expect(proxyFor(u("https://notinternal.example.com.evil"), env)?.host).toBe("p:1");
    for (const h of ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"])
      expect(proxyFor(u(h), { HTTP_PROXY: "http://p:1" })).toBeUndefined();
    expect(proxyFor(u("https://anything"), { HTTPS_PROXY: "http://p:1", no_proxy: "*" })).toBeUndefined();
    expect(() => proxyFor(u("https://a"), { HTTPS_PROXY: "http://[bad" })).toThrow(/HTTPS_PROXY is not a URL/);
  });
});
