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
    const r = { status: 0, headers: {} as ResponseHeaders, text: "", streamed: false };
    const decoder = new StringDecoder("utf8");
    const limit = opts.maxAnswerBytes ?? 64 * 1024 * 1024;
    let size = 0;
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let unsubscribe: (() => void) | undefined;
    /** Settle once; a failure of ours (timeout, abort, limit, the callback's throw) also stops the request. */
    const finish = (err?: unknown, ours = false) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      unsubscribe?.();
      if (err === undefined) return resolve(r);
      if (ours) controller?.abort(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    const onAbort = () => finish(opts.signal?.reason ?? new Error("aborted"), true);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          const what = r.status ? BodyTimeoutError : HeadTimeoutError;
          finish(
            new what(`timed out after ${opts.timeoutMs} ms waiting for ${r.status ? "the rest of the answer" : "an answer"} from ${u.origin}`, u.origin),
            true,
          );
        }, opts.timeoutMs)
      : undefined;
    // Subscribed once `timer` exists: a subscription may call back at once (the client is gone already).
    unsubscribe = opts.cancel?.((reason) => finish(reason, true));
    if (settled) return;
    const take = (piece: string) => {
      if (!r.streamed) r.text += piece;
      else if (piece)
        try {
          opts.onStreamText?.(piece);
        } catch (e) {
          finish(e, true);
        }
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error("already settled"));
      },
      onResponseStart(_c, statusCode, headers) {
        if (opts.timeoutUntilHeaders && timer) clearTimeout(timer);
        r.status = statusCode;
        r.headers = headers;
        r.streamed = statusCode < 300 && String(headers["content-type"] ?? "").includes("text/event-stream") && opts.onStreamText !== undefined;
      },
      onResponseData(_c, chunk) {
        if (settled) return;
        size += chunk.length;
        if (!r.streamed && size > limit) return finish(new MalformedBodyError(`${u.origin}: the answer is over ${limit} bytes`, u.origin), true);
        take(decoder.write(chunk));
      },
      onResponseEnd() {
        take(decoder.end());
        finish();
      },
      onResponseError(_c, err) {
        if (settled) return;
        if ((err as { code?: unknown }).code === "UND_ERR_INVALID_ARG")
          return finish(new UserError(`cannot send to ${u.origin}: ${err.message}`, "check the headers (an API key with a line break?)"));
        finish(classify(err, u.origin, r.status !== 0));
      },
    };
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
        handler,
      );
    } catch (e) {
      if ((e as { code?: unknown }).code === "UND_ERR_INVALID_ARG")
        finish(new UserError(`cannot send to ${u.origin}: ${(e as Error).message}`, "check the headers (an API key with a line break?)"));
      else finish(classify(e, u.origin, false));
    }
  });
}
