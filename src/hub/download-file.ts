/**
 * Download one file of a Hub model repository: resumable (HTTP Range onto a .part file) and
 * hash-checked against the Hub's LFS sha256 (from paths-info, via @huggingface/hub).
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UserError } from "../util/errors.js";
import { hubFetch } from "./hub-fetch.js";
import { hubToken, hubUrl } from "./hub-url.js";

export interface DownloadOptions {
  repo: string;
  /** A model repository (default) or a dataset repository (`/datasets/{repo}/resolve/…`). */
  repoType?: "model" | "dataset";
  path: string;
  revision?: string;
  dest: string;
  fetch?: typeof fetch;
  onProgress?: (bytes: number, total: number) => void;
  /** The size a listing already declared: file info that says otherwise is refused before any byte is fetched. */
  size?: number;
}

export interface DownloadResult {
  dest: string;
  size: number;
  sha256: string;
  /** The commit the revision resolved to, when the Hub said. */
  commit?: string;
  resumedFrom: number;
  verified: boolean;
}

class TooLong extends Error {
  constructor(path: string, size: number) {
    super(`download of ${path}: the server sent more than the ${size} bytes the Hub declared`);
  }
}

async function hashFile(file: string, hash: ReturnType<typeof createHash>): Promise<void> {
  await pipeline(createReadStream(file), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) hash.update(c);
  });
}

/** The file as the Hub declares it: its size, its LFS sha256 (when it is an LFS file) and the commit. */
interface FileInfo {
  size: number;
  expected: string | undefined;
  commit: string | undefined;
}

/** file info → resume the .part file (hash what it holds) → fetch the rest → check the sha256 → rename. */
export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  const f = o.fetch ?? hubFetch;
  const revision = o.revision ?? "main";
  const { size, expected, commit } = await fileInfo(o, f, revision);
  await mkdir(dirname(o.dest), { recursive: true });
  const part = `${o.dest}.part`;
  let have = existsSync(part) ? statSync(part).size : 0;
  if (have > size) {
    await rm(part);
    have = 0;
  }
  const hash = createHash("sha256");
  if (have > 0) await hashFile(part, hash);
  const resumedFrom = have;
  if (have < size) {
    const res = await fetchRest(o, f, revision, have);
    if (have > 0 && res.status !== 206) {
      // The server ignored the range: start over from byte 0.
      await res.body.cancel();
      await rm(part);
      return downloadFile(o);
    }
    await appendBody(o, res, part, have, size, hash);
  }
  const sha256 = hash.digest("hex");
  if (expected && sha256 !== expected) {
    await rm(part, { force: true });
    throw new UserError(
      `${o.path}: sha256 mismatch (got ${sha256}, the Hub says ${expected}); the download was discarded`,
      "run the same command again; if it repeats, the mirror at HF_ENDPOINT serves different bytes",
    );
  }
  await rename(part, o.dest);
  return { dest: o.dest, size, sha256, ...(commit ? { commit } : {}), resumedFrom, verified: Boolean(expected) };
}

async function fileInfo(o: DownloadOptions, f: typeof fetch, revision: string): Promise<FileInfo> {
  const { pathsInfo } = await import("@huggingface/hub");
  const token = hubToken();
  let info: Awaited<ReturnType<typeof pathsInfo>>;
  try {
    info = await pathsInfo({
      repo: { type: o.repoType ?? "model", name: o.repo },
      paths: [o.path],
      revision,
      expand: true,
      hubUrl: hubUrl(),
      fetch: f,
      ...(token ? { accessToken: token } : {}),
    });
  } catch (e) {
    throw new UserError(
      `hf:${o.repo}@${revision}: cannot read file info from ${hubUrl()}: ${(e as Error).message}`,
      "check the repository name, the revision, HF_ENDPOINT, HTTPS_PROXY / NO_PROXY, and HF_TOKEN for gated repositories",
    );
  }
  const entry = info.find((i) => i.path === o.path && i.type === "file");
  if (!entry) throw new UserError(`hf:${o.repo}@${revision} has no file "${o.path}"`, "check --file against the repository's file list");
  const size = entry.lfs?.size ?? entry.size;
  if (o.size !== undefined && size !== o.size)
    throw new UserError(`${o.path}: the Hub declares ${size} bytes, expected ${o.size} from its listing`, "check HF_ENDPOINT; the mirror contradicts itself");
  return { size, expected: entry.lfs?.oid, commit: (entry as { lastCommit?: { id?: string } }).lastCommit?.id };
}

/** GET the file from byte `have` on (a Range request when resuming); a failed answer is a UserError. */
async function fetchRest(o: DownloadOptions, f: typeof fetch, revision: string, have: number): Promise<Response & { body: ReadableStream }> {
  const token = hubToken();
  const prefix = o.repoType === "dataset" ? `${hubUrl()}/datasets` : hubUrl();
  const url = `${prefix}/${o.repo}/resolve/${encodeURIComponent(revision)}/${o.path.split("/").map(encodeURIComponent).join("/")}`;
  const res = await f(url, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
    redirect: "follow",
  });
  if (!res.ok || !res.body)
    throw new UserError(
      `download of ${o.path} failed: HTTP ${res.status}`,
      res.status === 401 || res.status === 403
        ? "set HF_TOKEN for gated or private repositories"
        : "try again; the partial file is kept and the download resumes",
    );
  return res as Response & { body: ReadableStream };
}

/** The body onto the .part file, hashed as it goes; a server that sends more than the declared size is cut off and nothing is kept. */
async function appendBody(
  o: DownloadOptions,
  res: Response & { body: ReadableStream },
  part: string,
  have: number,
  size: number,
  hash: ReturnType<typeof createHash>,
): Promise<void> {
  let received = have;
  const out = createWriteStream(part, { flags: have > 0 ? "a" : "w" });
  const copied = pipeline(
    Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>),
    async function* (src: AsyncIterable<Buffer>) {
      for await (const chunk of src) {
        hash.update(chunk);
        received += chunk.length;
        // A server that sends more than the declared size (or never stops) is cut off here.
        if (received > size) throw new TooLong(o.path, size);
        o.onProgress?.(received, size);
        yield chunk;
      }
    },
    out,
  );
  await copied.catch(async (e: unknown) => {
    if (!(e instanceof TooLong)) throw e;
    await rm(part, { force: true });
    throw new UserError(e.message, "the server at HF_ENDPOINT is broken or hostile; nothing was kept");
  });
}
