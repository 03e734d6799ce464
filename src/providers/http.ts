/**
 * The provider side of HTTP: the transport is net/ (undici pools, proxies, typed errors); this file
 * turns its outcomes into ProviderErrors with a retry decision, reads API keys, estimates tokens.
 * Kept apart from net/ because retry policy is the eval runner's concern, not the transport's.
 */
import { HttpStatusError, isNetError, type NetError, type PostResult, parseRetryAfter } from "../net/index.js";
import { UserError } from "../util/errors.js";
import { ProviderError } from "./types.js";

export { closeAgents, type PoolRegistry, type PostOptions, type PostResult, parseRetryAfter, postJson } from "../net/index.js";

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Whether the eval runner may try a failed request again. Every network failure is, as before this
 * layer existed: an evaluation request has no side effect beyond its cost, and a run that gives up on
 * the first reset loses the item. A request the server may have received (`sent`) is retried only by
 * this policy, never by the transport. The gateway does not use this: it never re-sends to the target
 * that failed, it falls back to another.
 */
function retryableNet(e: NetError): boolean {
  if (e instanceof HttpStatusError) return isRetryableStatus(e.status);
  return e.code !== "WB_NET_TLS" && e.code !== "WB_NET_DNS";
}

/** A transport failure as a ProviderError (the NetError kept as its cause); ours and UserErrors pass through. */
export function toProviderError(e: unknown): unknown {
  if (e instanceof ProviderError || e instanceof UserError) return e;
  if (isNetError(e)) return new ProviderError(`connection error: ${e.detail || e.code} ${e.message}`, { retryable: retryableNet(e), cause: e });
  // Anything else (the caller's abort reason among them) keeps its pre-net/ treatment: retryable, message kept.
  return new ProviderError(`connection error: ${e instanceof Error ? e.message : String(e)}`, { retryable: true, cause: e });
}

/** A non-2xx answer as a ProviderError with the server's own message (the HttpStatusError as its cause). */
export function httpError(res: PostResult, origin = ""): ProviderError {
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
  const shown = detail ? detail.replace(/\s+/g, " ").trim() : "no body";
  const cause = new HttpStatusError(`HTTP ${res.status}: ${shown}`, origin, res.status, retryAfterMs, detail);
  return new ProviderError(cause.message, {
    status: res.status,
    retryable: isRetryableStatus(res.status) && (!html || transientGateway),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    cause,
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
