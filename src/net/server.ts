/**
 * Inbound HTTP/1.1 servers on node:http (llhttp does the framing; nothing here parses bytes), with
 * the limits a server in front of customer data needs and node:http leaves open:
 *
 * - heads: `maxHeaderSize` 16 KiB (llhttp answers 431 above it); more than `maxHeaders` header lines
 *   is a 431 too (node:http's own `maxHeadersCount` silently drops the extra ones: refused instead);
 *   a request with more than one Host header is a 400 (RFC 9112 §3.2; llhttp lets it through); a
 *   missing Host is a 400 too (checked here: node's `requireHostHeader` answers 400 but still dispatches a
 *   request pipelined behind it); `insecureHTTPParser` stays off.
 * - time: `headersTimeout`, `requestTimeout` (408) and the keep-alive timeout, checked every second.
 * - bodies: read whole up to `bodyLimit`; a longer one is read past (not kept), answered by the
 *   handler with `tooLarge` set, and the connection closes after that answer.
 * - order and backpressure: node:http dispatches every pipelined request it parses at once (one 64 KiB
 *   segment can hold a thousand) and only pauses a socket when answers pile up unwritten. Here a
 *   connection serves one request at a time, in order; while more than `maxPipelined` wait, the socket
 *   stops being read. Once an answer closes the connection (Connection: close from either side, a
 *   refusal, a body over the limit), nothing after it on that connection is dispatched.
 * - a handler that throws or rejects gets a 500 in the OpenAI error shape (if nothing was sent yet),
 *   reported to `onHandlerError`.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";

/** A request read whole. */
export interface InboundRequest {
  method: string;
  /** The request target as sent (path and query). */
  url: string;
  /** Lower-case names; repeated headers joined with ", " (node:http keeps the first of single-value ones). */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** The body was over the limit: `body` is empty, and the connection closes after the answer. */
  tooLarge: boolean;
}

/** One answer: `writeHead`, then `end(body)`, or `write` pieces (sent chunked) and `end()`. */
export interface Reply {
  readonly headersSent: boolean;
  writeHead(status: number, headers?: Record<string, string | number>): void;
  write(data: string): void;
  end(data?: string): void;
  /** Drop the connection (an answer that cannot be finished). */
  destroy(): void;
  /** Aborted when the client goes away before the answer is complete (made on first use). */
  readonly gone: AbortSignal;
  /** Whether the client went away before the answer was complete. */
  readonly isGone: boolean;
  /**
   * Call `f` once when the client goes away before the answer is complete (at once if it has);
   * returns the way to unsubscribe. The cheap form of `gone` (no AbortController or EventTarget per
   * request: ~10 µs a request at 1,000 req/s); PostOptions.cancel takes it.
   */
  whenGone(f: (reason: Error) => void): () => void;
}

export interface HttpServerOptions {
  bodyLimit: number;
  onRequest(req: InboundRequest, reply: Reply): void | Promise<void>;
  /** Told about a handler that threw (the 500 has been sent, or the connection dropped). */
  onHandlerError?(err: unknown, req: InboundRequest): void;
  maxHeaderSize?: number;
  maxHeaders?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveMs?: number;
  maxPipelined?: number;
  /** How long close() lets answers in progress finish before it drops their connections. */
  closeGraceMs?: number;
}

export interface HttpServer {
  server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stop accepting, close idle connections, let answers in progress finish (up to closeGraceMs). */
  close(): Promise<void>;
}

export const SERVER_DEFAULTS = {
  maxHeaderSize: 16 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveMs: 72_000,
  maxPipelined: 8,
  closeGraceMs: 10_000,
} as const;

/** Per connection: requests parsed but not yet answered, in order. */
interface Conn {
  queue: { req: http.IncomingMessage; res: http.ServerResponse }[];
  busy: boolean;
  /** An answer closes this connection: nothing more is dispatched on it. */
  closing: boolean;
  paused: boolean;
}

/**
 * Stop (or restart) reading a connection. node:http restarts a plain socket.pause() whenever any
 * request on it reads its body (IncomingMessage#_read resumes the socket unless node itself paused it,
 * which it marks with `socket._paused`, its own flag for output backpressure since Node 0.x); without
 * the flag, pipelined requests kept being parsed and their bodies buffered (100 such connections: RSS
 * 0.1 -> 3.5 GB). So the flag is set as node:http sets it. node:http clears it when the answers drain,
 * after which the next request over the limit holds the connection again.
 */
function holdReading(socket: Socket, hold: boolean): void {
  (socket as Socket & { _paused?: boolean })._paused = hold;
  if (hold) socket.pause();
  else socket.resume();
}

/** The OpenAI-style error body the gateway uses for what it refuses. */
export function errorBody(status: number, message: string, code: string): string {
  const type = status === 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error";
  return JSON.stringify({ error: { message, type, code, param: null } });
}

/**
 * One answer on a node:http ServerResponse; `last()` says the server is stopping (the answer then
 * closes its connection). A class, not an object literal with getters: V8 allocates the accessor
 * pair of a literal's getter in the old generation, one per object, so every request's closures —
 * and through them its response, body and pipeline state — were kept alive by old-space garbage until
 * the next mark-compact. At 1,000 req/s that promoted ~2 MiB per scavenge (a quarter of what the
 * gateway allocated; 0.16 MiB without it) and tripled each scavenge's pause.
 */
class ServerReply implements Reply {
  private reason: Error | undefined;
  private controller: AbortController | undefined;
  private waiting: ((reason: Error) => void) | undefined;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly last: () => boolean,
  ) {
    res.once("close", () => this.closed());
  }

  private closed(): void {
    if (this.res.writableFinished) return;
    const reason = new Error("the client went away before the answer was complete");
    this.reason = reason;
    this.controller?.abort(reason);
    this.waiting?.(reason);
  }

  private decide(): void {
    if (this.last()) this.res.shouldKeepAlive = false;
  }

  get gone(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get isGone(): boolean {
    return this.reason !== undefined;
  }

  whenGone(f: (reason: Error) => void): () => void {
    if (this.reason) {
      f(this.reason);
      return () => {};
    }
    // One subscriber at a time (one upstream attempt is in flight per request); a later one replaces it.
    this.waiting = f;
    return () => {
      if (this.waiting === f) this.waiting = undefined;
    };
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): void {
    const h: Record<string, string | number> = {};
    for (const name in headers) if (name.toLowerCase() !== "connection") h[name] = headers[name] as string | number; // the server decides
    this.decide();
    this.res.writeHead(status, h);
  }

  write(data: string): void {
    const res = this.res;
    if (!res.headersSent) {
      this.decide();
      res.writeHead(200);
    }
    if (data !== "") res.write(data);
  }

  end(data?: string): void {
    const res = this.res;
    if (res.writableEnded) return;
    if (!res.headersSent && data !== undefined) res.setHeader("content-length", Buffer.byteLength(data));
    if (!res.headersSent) this.decide();
    res.end(data);
  }

  destroy(): void {
    this.res.destroy();
  }
}

/** Answer a refusal of our own (not llhttp's): JSON error, then the connection closes. */
function refuse(res: http.ServerResponse, status: number, message: string, code: string): void {
  const body = errorBody(status, message, code);
  res.shouldKeepAlive = false;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * What llhttp refused (malformed framing, a head over the limit, a request too slow): answered as
 * node:http's default handler answers it — same status, then the connection is destroyed — but with
 * the OpenAI-style JSON body the gateway uses for every error it generates.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const s = socket as Socket & { _httpMessage?: http.ServerResponse | null };
  if (s.writable && !s._httpMessage?.headersSent) {
    const code = err.code ?? "";
    const status = code === "HPE_HEADER_OVERFLOW" ? 431 : code === "HPE_CHUNK_EXTENSIONS_OVERFLOW" ? 413 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const why =
      status === 408
        ? "the request did not arrive in time"
        : status === 431
          ? "the request head is too large"
          : `malformed HTTP request (${code || err.message})`;
    const body = errorBody(status, why, "bad_http_request");
    s.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  s.destroy(err);
}

/** Read the body whole, up to `limit` bytes kept; past that it is drained and dropped. */
function readBody(req: http.IncomingMessage, limit: number, done: (body: Buffer | undefined, tooLarge: boolean) => void): void {
  let tooLarge = Number(req.headers["content-length"] ?? 0) > limit;
  const parts: Buffer[] = [];
  let size = 0;
  let settled = false;
  req.on("data", (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      parts.length = 0;
    } else parts.push(chunk);
  });
  req.once("end", () => {
    settled = true;
    done(tooLarge ? Buffer.alloc(0) : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), tooLarge);
  });
  req.once("close", () => {
    if (!settled) done(undefined, false); // the client went away before the body arrived
  });
}

/** How many Host header lines a request has (node:http keeps only the first). */
function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).length === 4 && (raw[i] as string).toLowerCase() === "host") n++;
  return n;
}

type Options = HttpServerOptions & { [K in keyof typeof SERVER_DEFAULTS]: number };

export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const o: Options = { ...SERVER_DEFAULTS, ...opts };
  const server = http.createServer({
    maxHeaderSize: o.maxHeaderSize,
    // Checked in serve() instead: node:http's own check answers 400 but still dispatches what follows.
    requireHostHeader: false,
    insecureHTTPParser: false,
    headersTimeout: Math.min(o.headersTimeoutMs, o.requestTimeoutMs), // node refuses a head deadline past the request's
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, o.requestTimeoutMs / 4)),
    noDelay: true,
  });
  // node:http drops header lines past maxHeadersCount; one more than our limit lets us see and refuse them.
  server.maxHeadersCount = o.maxHeaders + 1;
  server.on("clientError", answerClientError);
  const state = { stopping: false };
  server.on(
    "request",
    inOrder(o, (req, res) => serve(o, state, req, res)),
  );
  return {
    server,
    listen: (port, host) =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        state.stopping = true;
        const grace = setTimeout(() => server.closeAllConnections(), o.closeGraceMs);
        grace.unref();
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

type Serve = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * The "request" listener: one request at a time per connection, in order; the socket stops being
 * read while more than `maxPipelined` wait; nothing after a closing answer is dispatched.
 */
function inOrder(o: Options, serveOne: Serve): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const conns = new WeakMap<Socket, Conn>();
  const pump = (socket: Socket, c: Conn): void => {
    if (c.busy) return;
    const next = c.queue.shift();
    if (!next) return;
    if (c.paused && c.queue.length < o.maxPipelined) {
      c.paused = false;
      holdReading(socket, false);
    }
    c.busy = true;
    next.res.once("close", () => {
      c.busy = false;
      if (!next.res.shouldKeepAlive || !next.res.writableFinished) c.closing = true;
      if (c.closing) {
        // Never dispatched; node:http ends the socket after a closing answer (or it is gone already).
        for (const q of c.queue) q.req.resume();
        c.queue.length = 0;
        return;
      }
      pump(socket, c);
    });
    serveOne(next.req, next.res);
  };
  return (req, res) => {
    const socket = req.socket;
    let c = conns.get(socket);
    if (!c) {
      c = { queue: [], busy: false, closing: false, paused: false };
      conns.set(socket, c);
    }
    if (c.closing) {
      req.resume(); // after a closing answer: never dispatched
      return;
    }
    c.queue.push({ req, res });
    if (c.queue.length > o.maxPipelined && !c.paused) {
      c.paused = true;
      holdReading(socket, true);
    }
    pump(socket, c);
  };
}

/** What is wrong with a request's head that llhttp let through (too many lines, Host missing or repeated). */
function headProblem(o: Options, req: http.IncomingMessage): readonly [number, string] | undefined {
  const hosts = hostLines(req.rawHeaders);
  if (req.rawHeaders.length / 2 > o.maxHeaders) return [431, `more than ${o.maxHeaders} header lines`];
  if (hosts === 0 && req.httpVersionMinor === 1) return [400, "an HTTP/1.1 request without a Host header"];
  if (hosts > 1) return [400, "more than one Host header"];
  return undefined;
}

/** One request: its head checked, its body read whole, then handed to onRequest; a handler that fails gets a 500. */
function serve(o: Options, state: { stopping: boolean }, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (state.stopping) res.shouldKeepAlive = false;
  const bad = headProblem(o, req);
  if (bad) {
    refuse(res, bad[0], bad[1], "bad_http_request");
    return;
  }
  readBody(req, o.bodyLimit, (body, tooLarge) => {
    if (!body) return void res.destroy();
    if (tooLarge) res.shouldKeepAlive = false;
    // node:http gives arrays only for set-cookie, which a request does not carry to us: joined if so.
    const headers = req.headers as Record<string, string | undefined>;
    const sc = req.headers["set-cookie"];
    if (sc) headers["set-cookie"] = sc.join(", ");
    const request: InboundRequest = { method: req.method ?? "GET", url: req.url ?? "/", headers, body, tooLarge };
    const failed = (e: unknown) => {
      if (!res.headersSent) refuse(res, 500, `internal error: ${(e as Error)?.message ?? String(e)}`, "internal_error");
      else res.destroy();
      o.onHandlerError?.(e, request);
    };
    try {
      const r = o.onRequest(request, new ServerReply(res, () => state.stopping));
      if (r) r.catch(failed);
    } catch (e) {
      failed(e);
    }
  });
}
