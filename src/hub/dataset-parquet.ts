/**
 * A Hub dataset split as Parquet files, the way the Hub serves it: the dataset viewer converts every
 * dataset to Parquet on the `refs/convert/parquet` branch, one folder per `{config}/{split}` (a split
 * too large to convert whole is under `{config}/partial-{split}`). We resolve the branch (or a pinned
 * commit) to its commit sha, list the folder at that commit, and download each file with
 * downloadFile (resumable, sha256-checked against the Hub's LFS oid) into a cache folder keyed by
 * the commit, with a manifest beside the files. A later load at the same commit reads the manifest
 * and the files (each re-hashed against the listing's sha256) and sends nothing but the revision
 * lookup (none at all when the revision is a sha, or with HF_HUB_OFFLINE=1, which uses the commit the
 * revision last resolved to).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../util/errors.js";
import { downloadFile } from "./download-file.js";
import { hubFetch } from "./hub-fetch.js";
import { hubToken, hubUrl } from "./hub-url.js";

export const PARQUET_BRANCH = "refs/convert/parquet";

export interface DatasetSplitRef {
  dataset: string;
  config: string;
  split: string;
  /** A branch, tag or commit of the dataset repository; default: the Parquet conversion branch. */
  revision?: string;
}

export interface DatasetParquetFile {
  path: string;
  size: number;
  sha256: string;
  /** Where it lies on this machine. */
  local: string;
}

export interface DatasetSplitFiles {
  dataset: string;
  config: string;
  split: string;
  revision: string;
  commit: string;
  /** True when the Hub only converted the first rows of the split (`partial-{split}`). */
  partial: boolean;
  files: DatasetParquetFile[];
  /** How many files were downloaded now (0: all came from the cache). */
  downloaded: number;
}

export function cacheRoot(): string {
  return process.env.WEIGHTBRIDGE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weightbridge");
}

const SHA = /^[0-9a-f]{40}$/;
const NAME = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const SEGMENT = /^[\w.-]+$/;
/** A shard's name inside `{config}/{split}/`: the Hub names them `0000.parquet`; nothing else is written to disk. */
const SHARD = /^[\w-][\w.-]*\.parquet$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** The Hub's conversion shards a split into files of a few hundred MB; a listing past these is refused before any download. */
export const MAX_SHARDS = 10_000;
/** Same as the Parquet reader's limit (config/datasets/rows.ts MAX_PARQUET_BYTES): a larger shard could not be read anyway. */
export const MAX_SHARD_BYTES = 1024 * 1024 * 1024;

const manifestSchema = z.object({
  partial: z.boolean(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative().max(MAX_SHARD_BYTES), sha256: z.string().regex(SHA256) })).max(MAX_SHARDS),
});

function where(r: DatasetSplitRef): string {
  return `hf:${r.dataset} (config ${r.config}, split ${r.split})`;
}

function authHeaders(): Record<string, string> {
  const token = hubToken();
  return { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function resolveCommit(r: DatasetSplitRef, revision: string): Promise<string> {
  if (SHA.test(revision)) return revision;
  const url = `${hubUrl()}/api/datasets/${r.dataset}/revision/${encodeURIComponent(revision)}`;
  const res = await hubFetch(url, { headers: authHeaders() }).catch((e: Error) => {
    throw new UserError(`${where(r)}: cannot reach the Hub at ${hubUrl()}: ${e.message}`, "check HF_ENDPOINT and HTTPS_PROXY / NO_PROXY");
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new UserError(
      `${where(r)}: the Hub answered HTTP ${res.status} for revision "${revision}"`,
      res.status === 401 || res.status === 403
        ? "set HF_TOKEN for gated or private datasets"
        : revision === PARQUET_BRANCH
          ? "check the dataset name; the Hub may not have converted this dataset to Parquet yet"
          : "check the dataset name and the revision",
    );
  }
  const sha = ((await res.json().catch(() => ({}))) as { sha?: unknown }).sha;
  if (typeof sha !== "string" || !SHA.test(sha)) throw new UserError(`${where(r)}: the Hub did not answer a commit sha for revision "${revision}"`);
  return sha;
}

async function listFolder(r: DatasetSplitRef, commit: string, folder: string): Promise<{ path: string; size: number; sha256: string }[]> {
  const { listFiles } = await import("@huggingface/hub");
  const token = hubToken();
  const out: { path: string; size: number; sha256: string }[] = [];
  try {
    for await (const f of listFiles({
      repo: { type: "dataset", name: r.dataset },
      revision: commit,
      path: folder,
      hubUrl: hubUrl(),
      fetch: hubFetch,
      ...(token ? { accessToken: token } : {}),
    })) {
      if (f.type !== "file" || !f.path.endsWith(".parquet")) continue;
      checkListed(r, folder, f.path, f.lfs);
      out.push({ path: f.path, size: f.lfs.size, sha256: f.lfs.oid });
      if (out.length > MAX_SHARDS)
        throw new UserError(
          `${where(r)}: the Hub lists more than ${MAX_SHARDS} Parquet files, over the limit`,
          "check HF_ENDPOINT; use a smaller split or config",
        );
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) return [];
    throw new UserError(
      `${where(r)}: cannot list ${folder}/ at ${commit.slice(0, 12)}: ${(e as Error).message}`,
      "check HF_ENDPOINT, HTTPS_PROXY / NO_PROXY and HF_TOKEN",
    );
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Shown in messages: control bytes escaped, so a hostile name cannot forge lines. */
function shown(path: string): string {
  return JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);
}

/** A listed shard must be a plain file name directly in the folder, with a sha256 and a size we can read. */
function checkListed(
  r: DatasetSplitRef,
  folder: string,
  path: string,
  lfs: { oid?: string; size?: number } | undefined,
): asserts lfs is { oid: string; size: number } {
  const name = path.startsWith(`${folder}/`) ? path.slice(folder.length + 1) : undefined;
  if (name === undefined || !SHARD.test(name))
    throw new UserError(`${where(r)}: the Hub listed a path that is not a plain file name in ${folder}/: ${shown(path)}`, "check HF_ENDPOINT");
  if (!lfs?.oid || !SHA256.test(lfs.oid))
    throw new UserError(`${where(r)}: ${path} has no sha256 (LFS oid) in the Hub's listing`, "the files cannot be verified; check HF_ENDPOINT");
  if (!Number.isSafeInteger(lfs.size) || (lfs.size as number) < 0 || (lfs.size as number) > MAX_SHARD_BYTES)
    throw new UserError(
      `${where(r)}: ${path} is listed at ${lfs.size} bytes, over the ${MAX_SHARD_BYTES / 2 ** 20} MiB limit for one Parquet file`,
      "check HF_ENDPOINT; use a smaller split or config",
    );
}

function readManifest(file: string, folders: string[]): z.infer<typeof manifestSchema> | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined; // a torn or edited manifest: list again
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) return undefined;
  // An edited manifest must not lead us outside the split's folder: list again instead.
  const inFolder = (p: string) => folders.some((d) => p.startsWith(`${d}/`) && SHARD.test(p.slice(d.length + 1)));
  return r.data.files.every((f) => inFolder(f.path)) ? r.data : undefined;
}

function checkRef(r: DatasetSplitRef): void {
  if (!NAME.test(r.dataset)) throw new UserError(`hf dataset "${r.dataset}" is not of the form org/name`, "write it as on the Hub, e.g. dataset: cais/mmlu");
  for (const [k, v] of [
    ["config", r.config],
    ["split", r.split],
  ] as const)
    if (!SEGMENT.test(v) || v === "." || v === "..") throw new UserError(`${where(r)}: ${k} "${v}" is not a plain name`, "use letters, digits, _ . -");
  const rev = r.revision;
  // The revision names a cache file (refs/ENCODED): "." or ".." would name a folder, control bytes a forged message.
  if (rev !== undefined && (rev === "." || rev === ".." || rev.length > 256 || [...rev].some((c) => c < " " || c === "\u007f")))
    throw new UserError(`${where(r)}: revision ${JSON.stringify(rev)} is not a usable name`, "use a branch, a tag or a 40-hex commit sha");
}

/** HF_HUB_OFFLINE, as the Hub's own clients read it: use the cache only, send nothing. */
function offline(): boolean {
  return /^(1|true|yes|on)$/i.test(process.env.HF_HUB_OFFLINE ?? "");
}

/** The commit a revision names: a sha as is; online, asked of the Hub (and remembered); offline, what was remembered. */
async function commitFor(r: DatasetSplitRef, revision: string, repoDir: string): Promise<string> {
  if (SHA.test(revision)) return revision;
  const ref = join(repoDir, "refs", encodeURIComponent(revision));
  if (offline()) {
    const sha = existsSync(ref) ? readFileSync(ref, "utf8").trim() : "";
    if (!SHA.test(sha))
      throw new UserError(
        `${where(r)}: HF_HUB_OFFLINE is set and revision "${revision}" is not in the cache`,
        "run once with network access, or pin revision: to a cached commit",
      );
    return sha;
  }
  const sha = await resolveCommit(r, revision);
  mkdirSync(join(repoDir, "refs"), { recursive: true });
  writeFileSync(ref, `${sha}\n`);
  return sha;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A cached file is used only if its bytes still hash to the listing's sha256; otherwise it is fetched again. */
async function ensureFile(r: DatasetSplitRef, commit: string, f: { path: string; size: number; sha256: string }, local: string): Promise<boolean> {
  if (existsSync(local) && statSync(local).size === f.size && (await sha256Of(local)) === f.sha256) return false;
  if (offline()) throw new UserError(`${where(r)}: HF_HUB_OFFLINE is set and ${f.path} is not in the cache (or changed there)`, "run once with network access");
  rmSync(local, { force: true });
  const got = await downloadFile({ repo: r.dataset, repoType: "dataset", path: f.path, revision: commit, dest: local, size: f.size });
  if (got.sha256 !== f.sha256) throw new UserError(`${where(r)}: ${f.path}: sha256 ${got.sha256} differs from the listing's ${f.sha256}`);
  return true;
}

async function listSplit(r: DatasetSplitRef, revision: string, commit: string): Promise<z.infer<typeof manifestSchema>> {
  if (offline())
    throw new UserError(`${where(r)}: HF_HUB_OFFLINE is set and this split at ${commit.slice(0, 12)} is not in the cache`, "run once with network access");
  let listed = await listFolder(r, commit, `${r.config}/${r.split}`);
  if (listed.length > 0) return { partial: false, files: listed };
  listed = await listFolder(r, commit, `${r.config}/partial-${r.split}`);
  if (listed.length > 0) return { partial: true, files: listed };
  throw new UserError(
    `${where(r)}: no Parquet files under ${r.config}/${r.split}/ at ${revision}${revision === commit ? "" : ` (${commit.slice(0, 12)})`}`,
    "check config and split against the dataset viewer; revision must be a commit of the refs/convert/parquet branch",
  );
}

/** The split's Parquet files on this machine (downloaded or from the cache), with the commit they come from. */
export async function fetchDatasetSplit(r: DatasetSplitRef, o: { onFile?: (path: string, i: number, n: number) => void } = {}): Promise<DatasetSplitFiles> {
  checkRef(r);
  const revision = r.revision ?? PARQUET_BRANCH;
  const repoDir = join(cacheRoot(), "hf-datasets", ...r.dataset.split("/"));
  const commit = await commitFor(r, revision, repoDir);
  const dir = join(repoDir, commit);
  const manifestFile = join(dir, `${r.config}.${r.split}.manifest.json`);
  const manifest = readManifest(manifestFile, [`${r.config}/${r.split}`, `${r.config}/partial-${r.split}`]) ?? (await listSplit(r, revision, commit));
  let downloaded = 0;
  const files: DatasetParquetFile[] = [];
  for (const [i, f] of manifest.files.entries()) {
    o.onFile?.(f.path, i + 1, manifest.files.length);
    const local = join(dir, ...f.path.split("/"));
    if (await ensureFile(r, commit, f, local)) downloaded++;
    files.push({ ...f, local });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { dataset: r.dataset, config: r.config, split: r.split, revision, commit, partial: manifest.partial, files, downloaded };
}
