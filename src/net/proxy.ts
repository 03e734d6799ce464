/**
 * Which proxy a URL goes through, from the environment, as curl and Go read it. Every outbound
 * request of the product (providers, gateway upstreams, the Hub) asks here.
 */
import { UserError } from "../util/errors.js";

/** The host of a URL without IPv6 brackets. */
export function bareHost(u: URL): string {
  return u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
}

/**
 * https_proxy / HTTPS_PROXY for https, http_proxy / HTTP_PROXY for http (lower case first), unless
 * NO_PROXY / no_proxy names the host (exact, or a domain suffix with or without a leading dot or `*.`,
 * optionally `:port`; `*` for all). Loopback hosts are never proxied.
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
