/**
 * Outbound HTTP on undici: one keep-alive Pool per origin and connection budget (a ProxyAgent when the
 * environment names a proxy, see proxy.ts; TLS checked, never turned off), a total or head-only
 * timeout, caller aborts, 2xx event streams handed over as they arrive, and every failure as a typed
 * NetError (errors.ts).
 *
 * A POST is never sent twice: undici only replays requests that never left its queue, and this layer
 * adds no retry of its own. A request whose connection closes after it went out fails with
 * ClosedWithoutAnswerError (`sent: true`); whether to try again, and where, is the caller's decision.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { StringDecoder } from "node:string_decoder";
import tls from "node:tls";
import type { Dispatcher, Pool, ProxyAgent as ProxyAgentType } from "undici";
import { UserError } from "../util/errors.js";
import { BodyTimeoutError, classify, HeadTimeoutError, MalformedBodyError } from "./errors.js";
import { proxyFor } from "./proxy.js";

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Keep-alive pools by origin and connection budget. */
export type PoolRegistry = Map<string, Dispatcher>;

const pools: PoolRegistry = new Map();

/**
 * undici's ProxyAgent needs the package index (which attaches request/connect to every dispatcher);
 * loaded only when a proxy is configured, so a run without one does not pay for fetch and WebSocket.
 */
/** undici's Pool, loaded on first use (by path: the package index also loads fetch and WebSocket), so commands that send nothing (scan, report) do not load it. */
let PoolClass: typeof Pool | undefined;
const loadPool = (): typeof Pool => {
  PoolClass ??= createRequire(import.meta.url)("undici/lib/dispatcher/pool.js") as typeof Pool;
  return PoolClass;
};
const loadProxyAgent = (): typeof ProxyAgentType => (createRequire(import.meta.url)("undici") as { ProxyAgent: typeof ProxyAgentType }).ProxyAgent;

/** How long a connection may take to open (TCP and TLS). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One dispatcher per origin, credentials, connection budget and trusted CA, shared by every caller in
 * the process (or in `registry`); the proxy is read from the environment when it is made. `ca` adds
 * to the CAs TLS trusts (a private CA); certificates are always verified.
 */
export function dispatcherFor(
  u: URL,
  connections: number,
  registry: PoolRegistry = pools,
  ca?: string | Buffer,
  connectTimeoutMs = CONNECT_TIMEOUT_MS,
): Dispatcher {
  const caKey = ca ? createHash("sha256").update(ca).digest("hex").slice(0, 16) : "";
  const key = `${u.protocol}//${u.username}:${u.password}@${u.host}#${connections}#${caKey}#${connectTimeoutMs}`;
  let d = registry.get(key);
  if (!d) {
    const proxy = proxyFor(u);
    const connect = { timeout: connectTimeoutMs, ...(ca ? { ca: [...tls.rootCertificates, ca.toString()] } : {}) };
    const common = { connections, pipelining: 1, connect };
    d = proxy
      ? new (loadProxyAgent())({
          uri: proxy.href,
          proxyTunnel: u.protocol === "https:",
          connections,
          pipelining: 1,
          requestTls: connect,
          connect: { timeout: connectTimeoutMs },
        })
      : new (loadPool())(u.origin, common);
    registry.set(key, d);
  }
  return d;
}

/** Close every pool in the registry (answers in progress finish; new requests are refused). */
export async function closeAgents(registry: PoolRegistry = pools): Promise<void> {
  const all = [...registry.values()];
  registry.clear();
  await Promise.all(all.map((d) => d.close().catch(() => d.destroy())));
}

/** Retry-After: seconds or an HTTP date; also the non-standard retry-after-ms. */
export function parseRetryAfter(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string" && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const v = headers["retry-after"];
  if (typeof v !== "string") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export interface PostOptions {
  headers: Record<string, string>;
  connections: number;
  /** A total deadline, or (with timeoutUntilHeaders) one for the response head only. */
  timeoutMs?: number;
  /** Pools to use instead of the process-wide ones (a gateway closes its own on shutdown). */
  pools?: PoolRegistry;
  /** The timeout covers the wait for the response head only (a stream may then run as long as it needs). */
  timeoutUntilHeaders?: boolean;
  signal?: AbortSignal;
  /** Like `signal`, as a subscription (Reply.whenGone): called with a reason to abort; returns the way to unsubscribe. */
  cancel?: (abort: (reason: unknown) => void) => () => void;
  /** Called with decoded text as it arrives when the answer is a 2xx event stream. */
  onStreamText?: (text: string) => void;
  /** How long a connection may take to open (TCP and TLS); default 10 s. */
  connectTimeoutMs?: number;
  /** A CA to trust besides the system's (PEM), for servers with a private CA. */
  ca?: string | Buffer;
  /** The most bytes of an answer read whole (not streamed); default 64 MiB. */
  maxAnswerBytes?: number;
}

export interface PostResult {
  status: number;
  headers: ResponseHeaders;
  /** The whole body, unless it was streamed to onStreamText. */
  text: string;
  streamed: boolean;
}

/**
 * A body already serialised as JSON, sent as it is: a caller that must know the exact bytes sent
 * (the gateway hashes them for its audit row) serialises once instead of twice.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** `Basic …` for the credentials in a URL, if it has any. */
function basicAuthOf(u: URL): Record<string, string> {
  if (!u.username && !u.password) return {};
  return { authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}` };
}

/** undici's "invalid argument" (a header with a line break, say): the caller's mistake, said as one. */
const invalidArg = (origin: string, e: unknown) =>
  new UserError(`cannot send to ${origin}: ${(e as Error).message}`, "check the headers (an API key with a line break?)");

/**
 * One answer read through undici's dispatch handler: whole (up to `maxAnswerBytes`), or streamed to
 * onStreamText for a 2xx event stream. Settles once: resolve with the result, or reject — and, for a
 * failure of ours (timeout, abort, limit, the callback's throw), stop the request.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  readonly result: PostResult = { status: 0, headers: {}, text: "", streamed: false };
  settled = false;
  timer: NodeJS.Timeout | undefined;
  unsubscribe: (() => void) | undefined;
  private readonly decoder = new StringDecoder("utf8");
  private readonly limit: number;
  private size = 0;
  private controller: Dispatcher.DispatchController | undefined;

  constructor(
    private readonly u: URL,
    private readonly opts: PostOptions,
    private readonly resolve: (r: PostResult) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    this.limit = opts.maxAnswerBytes ?? 64 * 1024 * 1024;
  }

  readonly onAbort = () => this.finish(this.opts.signal?.reason ?? new Error("aborted"), true);

  finish(err?: unknown, ours = false): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    this.unsubscribe?.();
    if (err === undefined) {
      this.resolve(this.result);
      return;
    }
    if (ours) this.controller?.abort(err instanceof Error ? err : new Error(String(err)));
    this.reject(err);
  }

  /** The deadline: for the head, or (without timeoutUntilHeaders) for the whole answer. */
  startTimer(ms: number): void {
    this.timer = setTimeout(() => {
      const r = this.result;
      const what = r.status ? BodyTimeoutError : HeadTimeoutError;
      const waiting = r.status ? "the rest of the answer" : "an answer";
      this.finish(new what(`timed out after ${ms} ms waiting for ${waiting} from ${this.u.origin}`, this.u.origin), true);
    }, ms);
  }

  private take(piece: string): void {
    if (!this.result.streamed) this.result.text += piece;
    else if (piece)
      try {
        this.opts.onStreamText?.(piece);
      } catch (e) {
        this.finish(e, true);
      }
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.settled) c.abort(new Error("already settled"));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (this.opts.timeoutUntilHeaders && this.timer) clearTimeout(this.timer);
    const r = this.result;
    r.status = statusCode;
    r.headers = headers;
    r.streamed = statusCode < 300 && String(headers["content-type"] ?? "").includes("text/event-stream") && this.opts.onStreamText !== undefined;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (!this.result.streamed && this.size > this.limit)
      this.finish(new MalformedBodyError(`${this.u.origin}: the answer is over ${this.limit} bytes`, this.u.origin), true);
    else this.take(this.decoder.write(chunk));
  }

  onResponseEnd(): void {
    this.take(this.decoder.end());
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    this.finish(
      (err as { code?: unknown }).code === "UND_ERR_INVALID_ARG" ? invalidArg(this.u.origin, err) : classify(err, this.u.origin, this.result.status !== 0),
    );
  }
}

/**
 * POST JSON and read the answer: streamed to onStreamText for 2xx event streams, read whole otherwise
 * (any status: the caller decides what a 4xx/5xx means). Fails with a NetError, the caller's abort
 * reason, or what onStreamText threw. On undici's dispatch API (no response stream objects: the
 * bytes go straight to the decoder; about half the CPU of `request` here).
 */
export function postJson(url: string | URL, body: unknown, opts: PostOptions): Promise<PostResult> {
  const u = typeof url === "string" ? new URL(url) : url;
  let dispatcher: Dispatcher;
  try {
    dispatcher = dispatcherFor(u, opts.connections, opts.pools, opts.ca, opts.connectTimeoutMs);
  } catch (e) {
    return Promise.reject(e instanceof UserError ? e : new UserError(`cannot send to ${u.origin}: ${(e as Error).message}`));
  }
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
  return new Promise<PostResult>((resolve, reject) => {
    const reader = new AnswerReader(u, opts, resolve, reject);
    opts.signal?.addEventListener("abort", reader.onAbort, { once: true });
    if (opts.timeoutMs) reader.startTimer(opts.timeoutMs);
    // Subscribed once the timer exists: a subscription may call back at once (the client is gone already).
    reader.unsubscribe = opts.cancel?.((reason) => reader.finish(reason, true));
    if (reader.settled) return;
    try {
      dispatcher.dispatch(
        {
          origin: u.origin,
          path: u.pathname + u.search,
          method: "POST",
          headers: { "content-type": "application/json", ...basicAuthOf(u), ...opts.headers },
          body: body instanceof JsonText ? body.text : JSON.stringify(body),
          ...(opts.timeoutMs ? { headersTimeout: opts.timeoutMs } : {}),
        },
        reader,
      );
    } catch (e) {
      if ((e as { code?: unknown }).code === "UND_ERR_INVALID_ARG") reader.finish(invalidArg(u.origin, e));
      else reader.finish(classify(e, u.origin, false));
    }
  });
}
