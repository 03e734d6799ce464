import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { type AddressInfo, createServer as createTcpServer, type Server as NetServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  AnswerCutOffError,
  BodyTimeoutError,
  ClosedWithoutAnswerError,
  ConnectError,
  ConnectTimeoutError,
  closeAgents,
  DnsError,
  HeadTimeoutError,
  MalformedBodyError,
  NetError,
  type PoolRegistry,
  postJson,
  TlsError,
} from "../../src/net/index.js";
import { UserError } from "../../src/util/errors.js";
import { selfSignedCert } from "../support/certs.js";
import { startForwardProxy } from "../support/forward-proxy.js";
import { tempDir } from "../support/project.js";

const closers: (() => Promise<void>)[] = [];
let pools: PoolRegistry = new Map();
afterEach(async () => {
  await closeAgents(pools);
  pools = new Map();
  for (const c of closers.splice(0).reverse()) await c();
});

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function listen<S extends NetServer>(s: S): Promise<number> {
  closers.push(
    () =>
      new Promise((r) => {
        (s as unknown as Server).closeAllConnections?.();
        s.close(() => r());
      }),
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as AddressInfo).port;
}

/** An HTTP server that reads each body whole, counts sockets, then calls `handler`. */
async function httpServer(handler: Handler) {
  const sockets = new Set<Socket>();
  let open = 0;
  let maxOpen = 0;
  const bodies: string[] = [];
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      bodies.push(body);
      handler(req, res, body);
    });
  });
  s.on("connection", (c: Socket) => {
    sockets.add(c);
    maxOpen = Math.max(maxOpen, ++open);
    c.on("close", () => open--);
  });
  const port = await listen(s);
  return { url: `http://127.0.0.1:${port}/v1/x`, sockets, bodies, maxOpen: () => maxOpen };
}

const post = (url: string, body: unknown = {}, extra: Partial<Parameters<typeof postJson>[2]> = {}) =>
  postJson(url, body, { headers: {}, connections: 1, pools, ...extra });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("net client (undici pools)", () => {
  it("keeps one connection alive across requests and sends Host, Content-Length and the body", async () => {
    const seen: string[] = [];
    const srv = await httpServer((req, res, body) => {
      seen.push(`${req.headers.host} ${req.headers["content-length"]} ${req.headers["x-key"]} ${body}`);
      res.end(`echo ${body}`);
    });
    for (let i = 0; i < 5; i++) expect((await post(srv.url, { i }, { headers: { "x-key": "k" } })).text).toBe(`echo {"i":${i}}`);
    expect(srv.sockets.size).toBe(1);
    expect(seen[4]).toBe(`${new URL(srv.url).host} 7 k {"i":4}`);
  });

  it("opens no more than `connections`; the rest wait their turn", async () => {
    const srv = await httpServer((_req, res, body) => setTimeout(() => res.end(body), 20));
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => post(srv.url, i, { connections: 2 })));
    expect(answers.map((a) => a.text)).toEqual(Array.from({ length: 9 }, (_, i) => String(i)));
    expect(srv.maxOpen()).toBe(2);
  });

  it("does not reuse a connection the server said to close", async () => {
    const srv = await httpServer((_req, res) => {
      res.setHeader("connection", "close");
      res.end("bye");
    });
    expect((await post(srv.url)).text).toBe("bye");
    expect((await post(srv.url)).text).toBe("bye");
    expect(srv.sockets.size).toBe(2);
  });

  it("streams a 2xx event stream to onStreamText as it arrives; the head-only timeout lets it run", async () => {
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setTimeout(() => res.end("data: 2\n\n"), 150);
    });
    const pieces: [string, number][] = [];
    const started = performance.now();
    const r = await post(srv.url, {}, { timeoutMs: 80, timeoutUntilHeaders: true, onStreamText: (t) => pieces.push([t, performance.now() - started]) });
    expect(r.streamed).toBe(true);
    expect(r.text).toBe("");
    expect(pieces.map((p) => p[0]).join("")).toBe("data: 1\n\ndata: 2\n\n");
    expect(pieces[0]?.[1]).toBeLessThan(120); // the first event came before the end
  });

  it("reads a 4xx/5xx whole with its headers (the caller decides), even for an event-stream type", async () => {
    const srv = await httpServer((_req, res) => {
      res.writeHead(429, { "content-type": "text/event-stream", "retry-after": "3" });
      res.end('{"error":{"message":"slow down"}}');
    });
    const r = await post(srv.url, {}, { onStreamText: () => {} });
    expect(r).toMatchObject({ status: 429, streamed: false, text: '{"error":{"message":"slow down"}}' });
    expect(r.headers["retry-after"]).toBe("3");
  });

  it("refuses header values with line breaks as a UserError, sending nothing", async () => {
    const srv = await httpServer((_req, res) => res.end("x"));
    const e = await failure(post(srv.url, {}, { headers: { authorization: "Bearer a\r\nX-Evil: 1" } }));
    expect(e).toBeInstanceOf(UserError);
    expect(srv.bodies).toEqual([]);
  });

  it("stops at once on the caller's abort, with the caller's reason", async () => {
    const srv = await httpServer(() => {}); // never answers
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stopped by the user")), 30);
    const started = performance.now();
    const e = await failure(post(srv.url, {}, { signal: ac.signal }));
    expect((e as Error).message).toBe("stopped by the user");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("stops on a cancel subscription (Reply.whenGone's form), unsubscribes when settled, and never sends once cancelled", async () => {
    const srv = await httpServer(() => {}); // never answers
    let abort: ((reason: unknown) => void) | undefined;
    let unsubscribed = 0;
    const cancel = (f: (reason: unknown) => void) => {
      abort = f;
      return () => void unsubscribed++;
    };
    setTimeout(() => abort?.(new Error("the client went away")), 30);
    const e = await failure(post(srv.url, {}, { cancel }));
    expect((e as Error).message).toBe("the client went away");
    expect(unsubscribed).toBe(1);
    // Already gone when subscribing: refused before anything is sent.
    const quiet = await httpServer((_req, res) => res.end("{}"));
    const goneAlready = (f: (reason: unknown) => void) => {
      f(new Error("gone already"));
      return () => {};
    };
    const gone = await failure(post(quiet.url, { a: 1 }, { cancel: goneAlready }));
    expect((gone as Error).message).toBe("gone already");
    await sleep(50);
    expect(quiet.bodies).toEqual([]);
  });
});

describe("one typed error per failure kind", () => {
  it("DNS, refused", async () => {
    const dns = await failure(post("http://no-such-host.invalid/v1/x"));
    expect(dns).toBeInstanceOf(DnsError);
    expect(dns).toMatchObject({ code: "WB_NET_DNS", sent: false });
    const refused = await failure(post("http://127.0.0.1:1/v1/x"));
    expect(refused).toBeInstanceOf(ConnectError);
    expect(refused).toMatchObject({ code: "WB_NET_CONNECT", sent: false, detail: "ECONNREFUSED" });
  });

  it("connect timeout: a server that takes the TCP connection and never answers the TLS handshake", async () => {
    const held: Socket[] = [];
    const port = await listen(createTcpServer((c) => void held.push(c))); // holds the socket, says nothing
    closers.push(async () => {
      for (const c of held) c.destroy();
    });
    const started = performance.now();
    const e = await failure(post(`https://localhost:${port}/v1/x`, {}, { connectTimeoutMs: 200 }));
    expect(e).toBeInstanceOf(ConnectTimeoutError);
    expect(e).toMatchObject({ code: "WB_NET_CONNECT_TIMEOUT", sent: false });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("head timeout, body timeout", async () => {
    const silent = await httpServer(() => {});
    const head = await failure(post(silent.url, {}, { timeoutMs: 100 }));
    expect(head).toBeInstanceOf(HeadTimeoutError);
    expect(head).toMatchObject({ code: "WB_NET_HEAD_TIMEOUT", sent: true });
    expect((head as Error).message).toMatch(/timed out after 100 ms/);
    const slowBody = await httpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
    });
    expect(await failure(post(slowBody.url, {}, { timeoutMs: 100 }))).toBeInstanceOf(BodyTimeoutError);
  });

  it("an answer cut off mid-body; a server that is not HTTP; an answer over the size limit", async () => {
    const cut = await httpServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const e = await failure(post(cut.url));
    expect(e).toBeInstanceOf(AnswerCutOffError);
    expect(e).toMatchObject({ code: "WB_NET_ANSWER_CUT_OFF", sent: true });
    const ssh = createTcpServer((c) => {
      c.resume();
      c.end("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    });
    const port = await listen(ssh);
    expect(await failure(post(`http://127.0.0.1:${port}/`))).toBeInstanceOf(MalformedBodyError);
    const big = await httpServer((_req, res) => res.end("x".repeat(5000)));
    expect(await failure(post(big.url, {}, { maxAnswerBytes: 4096 }))).toBeInstanceOf(MalformedBodyError);
  });

  it("TLS: an untrusted certificate is refused; trusted with its CA it is accepted", async () => {
    const made = selfSignedCert(tempDir(), "localhost", "/CN=localhost", ["-addext", "subjectAltName=DNS:localhost"]);
    const cert = readFileSync(made.cert);
    const port = await listen(createTlsServer({ key: readFileSync(made.key), cert }, (req, res) => req.resume().on("end", () => res.end("secure"))));
    const untrusted = await failure(post(`https://localhost:${port}/v1/x`));
    expect(untrusted).toBeInstanceOf(TlsError);
    expect(untrusted).toMatchObject({ code: "WB_NET_TLS", sent: false });
    expect((await post(`https://localhost:${port}/v1/x`, {}, { ca: cert })).text).toBe("secure");
    const wrongName = await failure(post(`https://127.0.0.1:${port}/v1/x`, {}, { ca: cert }));
    expect(wrongName).toBeInstanceOf(TlsError);
  });
});

describe("a POST is never sent twice", () => {
  it("a reused keep-alive connection closed after the request arrived: the server sees it once, the caller gets ClosedWithoutAnswerError", async () => {
    const perSocket = new Map<Socket, number>();
    const srv = await httpServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) return void req.socket.destroy(); // read whole, then closed without an answer
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ n }));
    });
    expect(JSON.parse((await post(srv.url, { a: 1 })).text)).toEqual({ n: 1 });
    const e = await failure(post(srv.url, { a: 2 }));
    await sleep(100); // a re-send would arrive now
    expect(srv.bodies.filter((b) => b === '{"a":2}')).toHaveLength(1);
    expect(e).toBeInstanceOf(ClosedWithoutAnswerError);
    expect(e).toMatchObject({ code: "WB_NET_CLOSED_WITHOUT_ANSWER", sent: true });
    expect((e as NetError).origin).toBe(new URL(srv.url).origin);
  });

  it("a connection reset after the request was written: seen once, not replayed on a fresh connection", async () => {
    let n = 0;
    const srv = await httpServer((req, res) => {
      if (++n === 1) return void req.socket.resetAndDestroy();
      res.end("second");
    });
    const e = await failure(post(srv.url, { once: true }));
    expect(e).toBeInstanceOf(ClosedWithoutAnswerError);
    await sleep(100);
    expect(srv.bodies).toEqual(['{"once":true}']);
  });
});

describe("through a proxy (HTTPS_PROXY / HTTP_PROXY from the environment)", () => {
  const withEnv = async <T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return await f();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it("tunnels https with CONNECT (credentials sent, one tunnel reused), verifies the target's certificate, refuses an untrusted one", async () => {
    // "localhost" is never proxied: the target is a name only the proxy resolves.
    const proxied = await startForwardProxy({ route: (host, p) => (host === "wb-test.example" ? { host: "127.0.0.1", port: p } : undefined) });
    closers.push(proxied.close);
    await withEnv({ HTTPS_PROXY: proxied.url.href, NO_PROXY: "" }, async () => {
      const made2 = selfSignedCert(tempDir(), "wb", "/CN=wb-test.example", ["-addext", "subjectAltName=DNS:wb-test.example"]);
      const cert2 = readFileSync(made2.cert);
      const port2 = await listen(
        createTlsServer({ key: readFileSync(made2.key), cert: cert2 }, (req, res) => req.resume().on("end", () => res.end(`tls ${req.url}`))),
      );
      const url = `https://wb-test.example:${port2}/v1/x`;
      expect((await post(url, {}, { ca: cert2 })).text).toBe("tls /v1/x");
      expect((await post(url, {}, { ca: cert2 })).text).toBe("tls /v1/x");
      expect(proxied.seen.connects).toEqual([`wb-test.example:${port2}`]);
      expect(proxied.seen.auth[0]).toBe(`Basic ${Buffer.from("user:secret").toString("base64")}`);
      expect(await failure(post(url))).toBeInstanceOf(TlsError);
    });
  });

  it("fails with a typed error when the proxy refuses the tunnel", async () => {
    const proxy = await startForwardProxy({ refuse: true });
    closers.push(proxy.close);
    await withEnv({ HTTPS_PROXY: proxy.url.href, NO_PROXY: "" }, async () => {
      const e = await failure(post("https://api.example.com/v1/x"));
      expect(e).toBeInstanceOf(NetError);
      expect((e as NetError).sent).toBe(false);
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as Error).message).toMatch(/the proxy refused the tunnel.*407/);
    });
  });

  it("sends plain-http requests in absolute form through http_proxy", async () => {
    const target = await httpServer((req, res) => res.end(`plain ${req.url}`));
    const port = new URL(target.url).port;
    const proxy = await startForwardProxy({ route: (host, p) => (host === "wb-plain.example" ? { host: "127.0.0.1", port: p } : undefined) });
    closers.push(proxy.close);
    await withEnv({ HTTP_PROXY: proxy.url.href, NO_PROXY: "" }, async () => {
      expect((await post(`http://wb-plain.example:${port}/v1/x`)).text).toBe("plain /v1/x");
      expect(proxy.seen.forwarded).toEqual([`POST http://wb-plain.example:${port}/v1/x`]);
      expect(proxy.seen.auth[0]).toMatch(/^Basic /);
    });
  });
});
