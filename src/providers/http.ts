/**
 * Shared HTTP plumbing for the HTTP providers and the gateway: one keep-alive node:http(s) Agent per
 * origin and connection budget, a total timeout, caller aborts, and mapping of failures to
 * ProviderError. node:http rather than undici (DESIGN.md's pick): on bench/eval-throughput.mjs's
 * 2,000 streamed requests at concurrency 32 a bare loop took 1.39 s on node:http against 1.56 s on
 * an undici Pool (native llhttp vs. the WebAssembly one), and the 280 KB undici chunk no longer has
 * to be compiled at start-up.
 */
import http from "node:http";
import https from "node:https";
import { UserError } from "../util/errors.js";
import { ProviderError } from "./types.js";

type Headers = Record<string, string | string[] | undefined>;

/** Keep-alive agents by origin and connection budget. */
export type PoolRegistry = Map<string, http.Agent>;

const pools: PoolRegistry = new Map();

/** Idle keep-alive sockets close after this long (or 1 s before the server's own Keep-Alive timeout, if shorter). */
const IDLE_SOCKET_MS = 30_000;

/** One keep-alive agent per origin and connection budget, shared by every provider in the process (or in `registry`). */
export function poolFor(u: URL, connections: number, registry: PoolRegistry = pools): http.Agent {
  const key = `${u.origin}#${connections}`;
  let a = registry.get(key);
  if (!a) {
    const Agent = u.protocol === "https:" ? https.Agent : http.Agent;
    a = new Agent({ keepAlive: true, maxSockets: Math.max(1, connections), timeout: IDLE_SOCKET_MS, scheduling: "lifo" });
    registry.set(key, a);
  }
  return a;
}

export async function closeAgents(registry: PoolRegistry = pools): Promise<void> {
  const all = [...registry.values()];
  registry.clear();
  for (const a of all) a.destroy();
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
  /** Agents to use instead of the process-wide ones (a gateway closes its own on shutdown). */
  pools?: PoolRegistry;
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
  const agent = poolFor(u, opts.connections, opts.pools);
  const payload = JSON.stringify(body);
  const request = u.protocol === "https:" ? https.request : http.request;
  const reqOptions: http.RequestOptions = {
    agent,
    protocol: u.protocol,
    hostname: u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname,
    port: u.port || undefined,
    path: u.pathname + u.search,
    method: "POST",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...opts.headers },
  };
  if (u.username || u.password) reqOptions.auth = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return new Promise<PostResult>((resolve, reject) => {
    let req: http.ClientRequest | undefined;
    let responded = false;
    let settled = false;
    const finish = (err?: unknown, res?: PostResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err !== undefined) {
        req?.destroy();
        reject(err);
      } else if (res) resolve(res);
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => finish(new ProviderError(`request timed out after ${opts.timeoutMs} ms`, { retryable: true })), opts.timeoutMs)
      : undefined;
    const onAbort = () => finish(opts.signal?.reason ?? new Error("aborted"));
    if (opts.signal) {
      if (opts.signal.aborted) return onAbort();
      opts.signal.addEventListener("abort", onAbort, { once: true });
    }
    const send = (retried: boolean) => {
      const r = request(reqOptions, (res) => {
        responded = true;
        if (opts.timeoutUntilHeaders && timer) clearTimeout(timer);
        const status = res.statusCode ?? 0;
        const headers = res.headers as Headers;
        const streamed = status < 400 && String(headers["content-type"] ?? "").includes("text/event-stream") && opts.onStreamText !== undefined;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (piece: string) => {
          if (settled) return;
          if (!streamed) text += piece;
          else {
            try {
              opts.onStreamText?.(piece);
            } catch (e) {
              finish(e);
            }
          }
        });
        res.on("end", () => finish(undefined, { status, headers, text, streamed }));
        res.on("error", (e) => finish(toProviderError(e)));
        res.on("close", () => {
          if (!res.complete) finish(new ProviderError("connection error: the connection closed before the answer ended", { retryable: true }));
        });
      });
      req = r;
      r.on("error", (e: NodeJS.ErrnoException) => {
        // A keep-alive socket the server had just closed: the request never reached it, send it again once.
        if (!responded && !settled && r.reusedSocket && e.code === "ECONNRESET" && !retried) send(true);
        else finish(toProviderError(e));
      });
      r.end(payload);
    };
    send(false);
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
  return new ProviderError(`HTTP ${res.status}: ${detail || "no body"}`, {
    status: res.status,
    retryable: isRetryableStatus(res.status),
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
