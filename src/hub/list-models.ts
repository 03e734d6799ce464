/**
 * List models from the Hub's /api/models, following the `Link: <…>; rel="next"` cursor, asking for
 * the fields the scoreboard needs, and retrying 429s as the Hub asks (Retry-After, or the RateLimit
 * header's reset). Injectable fetch, as huggingface.js does.
 */

import { sleep } from "../util/duration.js";
import { UserError } from "../util/errors.js";
import { hubFetch } from "./hub-fetch.js";
import { hubToken, hubUrl } from "./hub-url.js";
import type { HubModel } from "./model-object.js";
import { parseHubModel } from "./model-object.js";

export interface ListModelsOptions {
  sort?: "downloads" | "trending" | "likes";
  limit?: number;
  filter?: string;
  author?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  maxRetries?: number;
  onPage?: (fetched: number, limit: number) => void;
  onRetry?: (waitMs: number) => void;
}

const EXPAND = ["author", "downloads", "downloadsAllTime", "likes", "tags", "createdAt", "library_name", "pipeline_tag", "safetensors"];
const SORT_FIELD = { downloads: "downloads", trending: "trendingScore", likes: "likes" } as const;

export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m) return m[1];
  }
  return undefined;
}

/** Wait asked for by a 429: Retry-After seconds/date, else the `t=` of a RateLimit header, else 1 s. */
export function rateLimitWaitMs(headers: Headers, now = Date.now()): number {
  const ra = headers.get("retry-after");
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
    const t = Date.parse(ra);
    if (!Number.isNaN(t)) return Math.max(0, t - now);
  }
  const rl = headers.get("ratelimit");
  const m = rl ? /(?:^|[;,\s])t=(\d+)/.exec(rl) : null;
  if (m) return Number(m[1]) * 1000;
  return 1000;
}

export async function listModels(o: ListModelsOptions = {}): Promise<HubModel[]> {
  const f = o.fetch ?? hubFetch;
  const limit = o.limit ?? 1000;
  const params = new URLSearchParams({ sort: SORT_FIELD[o.sort ?? "downloads"], direction: "-1", limit: String(Math.min(100, limit)) });
  for (const e of EXPAND) params.append("expand[]", e);
  if (o.filter) params.set("filter", o.filter);
  if (o.author) params.set("author", o.author);
  let url: string | undefined = `${hubUrl()}/api/models?${params}`;
  const token = hubToken();
  const out: HubModel[] = [];
  let retries = 0;
  while (url && out.length < limit) {
    const res = await f(url, {
      headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (res.status === 429) {
      if (retries++ >= (o.maxRetries ?? 5))
        throw new UserError(
          `the Hub kept answering 429 (rate limited) after ${retries - 1} retries`,
          "wait, set HF_TOKEN for a higher limit, or lower --limit",
        );
      const wait = rateLimitWaitMs(res.headers);
      o.onRetry?.(wait);
      await res.body?.cancel();
      await sleep(wait, o.signal);
      continue;
    }
    if (!res.ok)
      throw new UserError(
        `listing models at ${hubUrl()} failed: HTTP ${res.status} ${await res.text().then((t) => t.slice(0, 200))}`,
        "check HF_ENDPOINT, HTTPS_PROXY / NO_PROXY, HF_TOKEN and the --filter/--author values",
      );
    retries = 0;
    const page = (await res.json()) as unknown;
    if (!Array.isArray(page)) throw new UserError(`the Hub answered something other than a list of models at ${url}`);
    for (const raw of page) {
      const m = parseHubModel(raw);
      if (m) out.push(m);
      if (out.length >= limit) break;
    }
    o.onPage?.(out.length, limit);
    url = nextLink(res.headers.get("link"));
  }
  return out;
}
