/**
 * Origin: the uploading organisation and, for derivatives, the root base model's lab and country,
 * from data/origins.json (src/hub/origins.ts, shared with the scoreboard). `base_model` is followed hop by hop through a
 * resolver (the Hub for hf: targets), so a quantisation of a fine-tune of Qwen resolves to Alibaba.
 */
import type { Origins } from "../../hub/index.js";

export interface OriginNode {
  repo: string;
  org: string;
  lab: string | null;
  country: string | null;
  reuploader?: boolean;
}

export interface OriginReport {
  /** The repository scanned, when known (hf: target, --repo, or the lockfile's source). */
  repo?: string;
  uploader?: OriginNode;
  /** base_model hops from the scanned repo to the root, in order. */
  chain: OriginNode[];
  /** The root base model's lab and country (the uploader's when there is no base model). */
  root?: OriginNode;
}

export type BaseModelResolver = (repo: string) => Promise<string[] | undefined>;

function node(repo: string, o: Origins): OriginNode {
  const org = repo.split("/")[0] ?? repo;
  const hit = o.byOrg.get(org.toLowerCase());
  const re = o.reuploaders.get(org.toLowerCase());
  return { repo, org, lab: hit?.lab ?? re?.lab ?? null, country: hit?.country ?? re?.country ?? null, ...(re ? { reuploader: true } : {}) };
}

export async function resolveOrigin(
  repo: string | undefined,
  baseModels: string[] | undefined,
  resolve?: BaseModelResolver,
  maxHops = 8,
): Promise<OriginReport> {
  if (!repo && !baseModels?.length) return { chain: [] };
  // data/origins.json is read through the Hub code, loaded only when there is something to attribute.
  const origins = (await import("../../hub/index.js")).loadOrigins();
  const chain: OriginNode[] = [];
  const seen = new Set<string>(repo ? [repo] : []);
  let next = baseModels?.[0];
  while (next && chain.length < maxHops && !seen.has(next)) {
    seen.add(next);
    chain.push(node(next, origins));
    next = resolve ? (await resolve(next).catch(() => undefined))?.[0] : undefined;
  }
  const uploader = repo ? node(repo, origins) : undefined;
  const root = chain.length ? chain[chain.length - 1] : uploader;
  return { ...(repo ? { repo } : {}), ...(uploader ? { uploader } : {}), chain, ...(root ? { root } : {}) };
}
