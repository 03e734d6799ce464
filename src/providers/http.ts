/** Shared HTTP plumbing for the HTTP providers: keep-alive pools, timeouts, error mapping. */
import { Agent, type Dispatcher, request } from "undici";
import { UserError } from "../util/errors.js";
import { ProviderError } from "./types.js";

const agents = new Map<number, Agent>();

/** One keep-alive agent per connection budget, shared by every provider in the process. */
export function sharedAgent(connections: number): Agent {
  const key = Math.max(1, connections);
  let a = agents.get(key);
  if (!a) {
    a = new Agent({ connections: key, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
    agents.set(key, a);
  }
  return a;
}

export async function closeAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close()));
}

/** Retry-After: seconds or an HTTP date; also the non-standard retry-after-ms. */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
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

export interface PostResult {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
}

/**
 * POST JSON with a combined timeout + caller abort. The returned signal stays armed until
 * `done()` is called, so a slow stream body is cut off by the same timeout.
 */
export async function postJson(
  url: string,
  body: unknown,
  opts: { headers: Record<string, string>; agent: Agent; timeoutMs?: number; signal?: AbortSignal },
): Promise<{ res: PostResult; done: () => void; signal: AbortSignal }> {
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        ctrl.abort(new ProviderError(`request timed out after ${opts.timeoutMs} ms`, { retryable: true }));
      }, opts.timeoutMs)
    : undefined;
  const onAbort = () => ctrl.abort(opts.signal?.reason);
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener("abort", onAbort, { once: true });
  }
  const done = () => {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  };
  try {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...opts.headers },
      body: JSON.stringify(body),
      dispatcher: opts.agent,
      signal: ctrl.signal,
    });
    return { res, done, signal: ctrl.signal };
  } catch (e) {
    done();
    throw toProviderError(e, timedOut, opts.signal);
  }
}

export function toProviderError(e: unknown, timedOut: boolean, callerSignal?: AbortSignal): unknown {
  if (e instanceof ProviderError) return e;
  if (callerSignal?.aborted) return callerSignal.reason ?? e;
  if (timedOut) return new ProviderError("request timed out", { retryable: true });
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  return new ProviderError(`connection error: ${code ? `${code} ` : ""}${msg}`, { retryable: true });
}

/** Read an error body and turn it into a ProviderError with the server's own message. */
export async function httpError(res: PostResult, done: () => void): Promise<ProviderError> {
  let text = "";
  try {
    text = await res.body.text();
  } catch {
    /* body already gone */
  } finally {
    done();
  }
  let detail = text.slice(0, 500);
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    detail = (typeof j.error === "string" ? j.error : j.error?.message) ?? j.message ?? detail;
  } catch {
    /* not JSON */
  }
  const retryAfterMs = parseRetryAfter(res.headers);
  return new ProviderError(`HTTP ${res.statusCode}: ${detail || "no body"}`, {
    status: res.statusCode,
    retryable: isRetryableStatus(res.statusCode),
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
