/**
 * Shared HTTP plumbing for the HTTP providers and the gateway: one keep-alive Http1Pool per origin
 * and connection budget (http1.ts; DESIGN.md names undici, see there for why neither undici nor
 * node:http), a total timeout, caller aborts, and mapping of failures to ProviderError.
 */
import { StringDecoder } from "node:string_decoder";
import { UserError } from "../util/errors.js";
import { bareHost, Http1Pool, type ResponseHeaders } from "./http1.js";
import { ProviderError } from "./types.js";

type Headers = ResponseHeaders;

/** Keep-alive pools by origin and connection budget. */
export type PoolRegistry = Map<string, Http1Pool>;

const pools: PoolRegistry = new Map();

/**
 * The proxy for a URL from the environment, as curl and Go read it: https_proxy / HTTPS_PROXY for
 * https, http_proxy / HTTP_PROXY for http (lower case first), unless NO_PROXY / no_proxy names the host
 * (exact, or a domain suffix with or without a leading dot or `*.`, optionally `:port`; `*` for all).
 * Loopback hosts are never proxied.
 */
export function proxyFor(u: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const host = bareHost(u).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  for (const entry of (env.no_proxy ?? env.NO_PROXY ?? "").split(/[\s,]+/)) {
    const e = entry.trim().toLowerCase();
    if (!e) continue;
    if (e === "*") return undefined;
    const m = /^(.*?)(?::(\d+))?$/.exec(e.startsWith("[") ? e.replace(/^\[([^\]]*)\]/, "$1") : e);
    const domain = (m?.[1] ?? e).replace(/^\*?\./, "");
    if ((host === domain || host.endsWith(`.${domain}`)) && (!m?.[2] || m[2] === port)) return undefined;
  }
  const name = u.protocol === "https:" ? "https_proxy" : "http_proxy";
  const v = env[name] ?? env[name.toUpperCase()];
  if (!v) return undefined;
  try {
    return new URL(v.includes("://") ? v : `http://${v}`);
  } catch {
    throw new UserError(`${env[name] ? name : name.toUpperCase()} is not a URL: ${v}`, "set it like http://proxy.example.com:3128, or unset it");
  }
}

/** One keep-alive pool per origin and connection budget, shared by every provider in the process (or in `registry`); the proxy is read from the environment when the pool is made. */
export function poolFor(u: URL, connections: number, registry: PoolRegistry = pools, batchWrites = false): Http1Pool {
  const key = `${u.protocol}//${u.username}:${u.password}@${u.host}#${connections}${batchWrites ? "#batched" : ""}`;
  let p = registry.get(key);
  if (!p) {
    const proxy = proxyFor(u);
    p = new Http1Pool(u, { connections, batchWrites, ...(proxy ? { proxy } : {}) });
    registry.set(key, p);
  }
  return p;
}

export async function closeAgents(registry: PoolRegistry = pools): Promise<void> {
  const all = [...registry.values()];
  registry.clear();
  for (const p of all) p.close();
}

/** Retry-After: seconds or an HTTP date; also the non-standard retry-after-ms. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string" && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const v = headers["retry-after"];
  if (typeof v !== "string") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export interface PostOptions {
  headers: Record<string, string>;
  connections: number;
  timeoutMs?: number;
  /** Pools to use instead of the process-wide ones (a gateway closes its own on shutdown). */
  pools?: PoolRegistry;
  /** Send request writes back to back at the end of the event-loop turn (see PoolOptions.batchWrites). */
  batchWrites?: boolean;
  /** The timeout covers the wait for the response head only (a stream may then run as long as it needs). */
  timeoutUntilHeaders?: boolean;
  signal?: AbortSignal;
  /** Called with decoded text as it arrives when the answer is a 2xx event stream. */
  onStreamText?: (text: string) => void;
}

export interface PostResult {
  status: number;
  headers: Headers;
  /** The whole body, unless it was streamed to onStreamText. */
  text: string;
  streamed: boolean;
}

/** POST JSON and read the answer: streamed to a callback for 2xx event streams, buffered otherwise. */
export function postJson(url: string | URL, body: unknown, opts: PostOptions): Promise<PostResult> {
  const u = typeof url === "string" ? new URL(url) : url;
  const pool = poolFor(u, opts.connections, opts.pools, opts.batchWrites);
  const payload = JSON.stringify(body);
  return new Promise<PostResult>((resolve, reject) => {
    let status = 0;
    let headers: Headers = {};
    let streamed = false;
    let text = "";
    const decoder = new StringDecoder("utf8");
    let settled = false;
    let control: { abort(err: Error): void } | undefined;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err !== undefined) {
        control?.abort(err instanceof Error ? err : new Error(String(err)));
        reject(err);
      } else resolve({ status, headers, text, streamed });
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => finish(new ProviderError(`request timed out after ${opts.timeoutMs} ms`, { retryable: true })), opts.timeoutMs)
      : undefined;
    const onAbort = () => finish(opts.signal?.reason ?? new Error("aborted"));
    if (opts.signal) {
      if (opts.signal.aborted) return onAbort();
      opts.signal.addEventListener("abort", onAbort, { once: true });
    }
    try {
      control = pool.post(u.pathname + u.search, { "Content-Type": "application/json", ...opts.headers }, payload, {
        onHead(statusCode, h) {
          if (opts.timeoutUntilHeaders && timer) clearTimeout(timer);
          status = statusCode;
          headers = h;
          streamed = statusCode < 400 && String(h["content-type"] ?? "").includes("text/event-stream") && opts.onStreamText !== undefined;
        },
        onData(chunk) {
          if (settled) return;
          const piece = decoder.write(chunk);
          if (!streamed) text += piece;
          else {
            try {
              opts.onStreamText?.(piece);
            } catch (e) {
              finish(e);
            }
          }
        },
        onEnd() {
          const rest = decoder.end();
          try {
            if (rest && streamed) opts.onStreamText?.(rest);
            else text += rest;
          } catch (e) {
            return finish(e);
          }
          finish();
        },
        onError(err) {
          finish(toProviderError(err));
        },
      });
    } catch (e) {
      finish(new UserError(`cannot send to ${u.origin}: ${(e as Error).message}`));
    }
  });
}

/** Network-level failures are retryable; our own ProviderErrors pass through. */
export function toProviderError(e: unknown): unknown {
  if (e instanceof ProviderError || e instanceof UserError) return e;
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  return new ProviderError(`connection error: ${code ? `${code} ` : ""}${msg}`, { retryable: true });
}

/** A non-2xx answer as a ProviderError with the server's own message. */
export function httpError(res: PostResult): ProviderError {
  let detail = res.text.slice(0, 500);
  try {
    const j = JSON.parse(res.text) as { error?: { message?: string } | string; message?: string };
    detail = (typeof j.error === "string" ? j.error : j.error?.message) ?? j.message ?? detail;
  } catch {
    /* not JSON */
  }
  const retryAfterMs = parseRetryAfter(res.headers);
  // An HTML page (a login wall, a misrouted URL) will not change on retry; gateway errors (502-504) and 429 may.
  const html = /^\s*</.test(res.text) || String(res.headers["content-type"] ?? "").includes("text/html");
  const transientGateway = res.status === 429 || (res.status >= 502 && res.status <= 504);
  return new ProviderError(`HTTP ${res.status}: ${detail ? detail.replace(/\s+/g, " ").trim() : "no body"}`, {
    status: res.status,
    retryable: isRetryableStatus(res.status) && (!html || transientGateway),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** The API key named by apiKeyEnv; a missing variable is a UserError before any request is sent. */
export function apiKeyFrom(env: string | undefined, id: string): string | undefined {
  if (!env) return undefined;
  const v = process.env[env];
  if (!v) throw new UserError(`model ${id}: environment variable ${env} is not set`, `export ${env}=... or remove apiKeyEnv from the model in the config`);
  return v;
}

/** Rough token estimate for servers that send no usage: ~4 characters per token. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
