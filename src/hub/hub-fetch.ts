/**
 * fetch for the Hugging Face Hub that honours the same proxy settings as the providers and the
 * gateway (`https_proxy` / `HTTPS_PROXY`, `http_proxy` / `HTTP_PROXY`, `NO_PROXY`; see proxyFor):
 * Node 20's own fetch ignores them, which left `pull`, `scan hf:` and `scoreboard ingest --from hub` unable to
 * reach the Hub from behind a corporate proxy. A proxied request goes through undici's ProxyAgent
 * (https in a CONNECT tunnel, TLS checked end to end; http as absolute-form requests; credentials in
 * the proxy URL sent as Proxy-Authorization); anything else through Node's fetch, unchanged.
 */
import { createRequire } from "node:module";
import type { ProxyAgent, fetch as UndiciFetch } from "undici";
import { proxyFor } from "../net/index.js";

const agents = new Map<string, ProxyAgent>();
/** undici's package (fetch, ProxyAgent), loaded only when a request goes through a proxy. */
const undici = () => createRequire(import.meta.url)("undici") as { ProxyAgent: typeof ProxyAgent; fetch: typeof UndiciFetch };

function agentFor(proxy: URL, target: URL): ProxyAgent {
  const tunnel = target.protocol === "https:";
  const key = `${proxy.href}#${tunnel}`;
  let a = agents.get(key);
  if (!a) {
    a = new (undici().ProxyAgent)({ uri: proxy.href, proxyTunnel: tunnel });
    agents.set(key, a);
  }
  return a;
}

/** fetch's own message is "fetch failed"; the reason (refused, not found, certificate) is in its cause. */
function explained(e: unknown, proxy: URL | undefined): Error {
  const err = e as Error & { cause?: { message?: string; code?: string } };
  if (err?.name === "AbortError") return err;
  const why = err?.cause?.message ?? err?.cause?.code;
  const via = proxy ? ` (through the proxy ${proxy.protocol}//${proxy.host})` : "";
  return new Error(`${err?.message ?? String(e)}${why ? `: ${why}` : ""}${via}`, { cause: e });
}

export const hubFetch: typeof fetch = (input, init) => {
  const request = typeof input === "string" || input instanceof URL ? undefined : input;
  const url = request ? request.url : String(input);
  const target = new URL(url);
  const proxy = proxyFor(target);
  if (!proxy)
    return fetch(input, init).catch((e) => {
      throw explained(e, undefined);
    });
  const asRequest = request ? { method: request.method, headers: Object.fromEntries(request.headers), body: request.body, duplex: "half" } : {};
  // undici's own Response is the same shape as Node's (web streams, headers, json()).
  const options = { ...asRequest, ...(init as object), dispatcher: agentFor(proxy, target) } as Parameters<typeof UndiciFetch>[1];
  return (undici().fetch(url, options) as unknown as Promise<Response>).catch((e) => {
    throw explained(e, proxy);
  });
};
