/**
 * `hf:org/name[@revision]` targets: resolve the revision to a commit, list the repository's files
 * (@huggingface/hub listFiles), and download each into a cache folder keyed by commit, checking
 * every LFS file against the Hub's sha256 (downloadFile). Endpoint from HF_ENDPOINT, token from HF_TOKEN.
 */
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "../util/errors.js";

export interface HfFetched {
  dir: string;
  repo: string;
  revision: string;
  commit?: string;
  files: { path: string; size: number; lfsSha256?: string; verified: boolean }[];
}

export function cacheDir(): string {
  return process.env.WEIGHTBRIDGE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weightbridge");
}

/** The Hub client, loaded when an hf: target is fetched (a local scan never loads it). */
const hub = () => import("../hub/index.js");

async function commitOf(repo: string, revision: string): Promise<string | undefined> {
  const { hubFetch, hubToken, hubUrl } = await hub();
  const token = hubToken();
  const res = await hubFetch(`${hubUrl()}/api/models/${repo}/revision/${encodeURIComponent(revision)}`, {
    headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const sha = ((await res.json()) as { sha?: unknown }).sha;
  return typeof sha === "string" ? sha : undefined;
}

export async function fetchHfRepo(
  repo: string,
  revision: string,
  opts: { dest?: string; onFile?: (path: string, i: number, n: number) => void } = {},
): Promise<HfFetched> {
  const { listFiles } = await import("@huggingface/hub");
  const { downloadFile, hubFetch, hubToken, hubUrl } = await hub();
  const token = hubToken();
  const commit = await commitOf(repo, revision);
  const entries: { path: string; size: number; lfs?: { oid: string; size: number } }[] = [];
  try {
    for await (const f of listFiles({
      repo: { type: "model", name: repo },
      revision,
      recursive: true,
      hubUrl: hubUrl(),
      fetch: hubFetch,
      ...(token ? { accessToken: token } : {}),
    }))
      if (f.type === "file") entries.push({ path: f.path, size: f.lfs?.size ?? f.size, ...(f.lfs ? { lfs: { oid: f.lfs.oid, size: f.lfs.size } } : {}) });
  } catch (e) {
    throw new UserError(
      `hf:${repo}@${revision}: cannot list files at ${hubUrl()}: ${(e as Error).message}`,
      "check the repository name and revision, HF_ENDPOINT, HTTPS_PROXY / NO_PROXY, and HF_TOKEN for gated repositories",
    );
  }
  const dir = opts.dest ?? join(cacheDir(), "hf", ...repo.split("/"), commit ?? revision);
  const files: HfFetched["files"] = [];
  let i = 0;
  for (const e of entries) {
    opts.onFile?.(e.path, ++i, entries.length);
    const dest = join(dir, ...e.path.split("/"));
    if (e.path.split("/").includes("..")) throw new UserError(`hf:${repo}: the Hub listed a path that leaves the folder: ${e.path}`);
    if (existsSync(dest) && statSync(dest).size === e.size && !e.lfs) {
      files.push({ path: e.path, size: e.size, verified: false });
      continue;
    }
    const r = await downloadFile({ repo, path: e.path, revision: commit ?? revision, dest });
    files.push({ path: e.path, size: r.size, ...(e.lfs ? { lfsSha256: e.lfs.oid } : {}), verified: r.verified });
  }
  return { dir, repo, revision, ...(commit ? { commit } : {}), files };
}
