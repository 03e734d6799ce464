/**
 * A local server speaking the parts of the Hugging Face Hub protocol we use:
 * POST /api/models/{repo}/paths-info/{rev}, GET /api/models/{repo}/tree/{rev} (file listing),
 * GET /api/models/{repo}/revision/{rev} (commit) and GET /{repo}/resolve/{rev}/{path} with HTTP Range.
 * With `repoType: "dataset"` the same under /api/datasets/{repo}/… and /datasets/{repo}/resolve/…, and
 * the tree listing answers for a folder (`tree/{rev}/{path}`) with the files directly under it.
 * Hostile options (test/hub/dataset-hostile.test.ts): extra raw listing entries, a resolve that
 * redirects to another origin or streams without end, a revision that answers another commit each time.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach } from "vitest";
import { tempDir } from "./project.js";

export interface HubFile {
  path: string;
  content: Buffer;
  /** Serve a different sha256 than the content has (a corrupted mirror). */
  lieAboutHash?: boolean;
  /** Stored in git rather than LFS (small text files): no sha256 from the Hub. */
  git?: boolean;
  /** The size the tree listing declares (paths-info keeps the real one): a Hub contradicting itself. */
  listedSize?: number;
}

/** The `lfs` field the Hub reports for a file stored in LFS (none for plain git files). */
function lfsOf(f: HubFile) {
  if (f.git) return {};
  return { lfs: { oid: f.lieAboutHash ? "0".repeat(64) : createHash("sha256").update(f.content).digest("hex"), size: f.content.length, pointerSize: 134 } };
}

export async function startHub(
  repo: string,
  files: HubFile[],
  opts: {
    commit?: string;
    failAfterBytes?: number;
    repoType?: "model" | "dataset";
    status?: number;
    /** Raw entries added to every tree listing, as a hostile Hub would send them. */
    extraListing?: Record<string, unknown>[];
    /** resolve answers 302 to this origin + the same path (the Hub's LFS files live on a CDN host). */
    redirectTo?: string;
    /** resolve sends bytes without end (no content-length) instead of the file. */
    endless?: boolean;
    /** The revision endpoint answers these commits in turn (the last one repeats). */
    commits?: string[];
  } = {},
) {
  const commit = opts.commit ?? "0123456789abcdef0123456789abcdef01234567";
  const commits = [...(opts.commits ?? [])];
  const api = `/api/${opts.repoType ?? "model"}s/${repo}`;
  const resolvePrefix = opts.repoType === "dataset" ? `/datasets/${repo}` : `/${repo}`;
  const requests: { method: string; url: string; range?: string; auth?: string }[] = [];
  let failOnce = opts.failAfterBytes;
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      if (opts.status) {
        res.writeHead(opts.status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "refused" }));
        return;
      }
      const info = new RegExp(`^${api}/paths-info/([^/]+)$`).exec(req.url ?? "");
      if (req.method === "POST" && info) {
        const { paths } = JSON.parse(body) as { paths: string[] };
        const out = files
          .filter((f) => paths.includes(f.path))
          .map((f) => ({
            type: "file",
            path: f.path,
            size: f.content.length,
            oid: "deadbeef",
            ...lfsOf(f),
            lastCommit: { id: commit, title: "upload", date: "2026-01-01T00:00:00.000Z" },
          }));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(out));
        return;
      }
      const tree = new RegExp(`^${api}/tree/([^/?]+)(?:/([^?]*))?`).exec(req.url ?? "");
      if (req.method === "GET" && tree) {
        const folder = tree[2] ? decodeURIComponent(tree[2]) : undefined;
        const listed = folder === undefined ? files : files.filter((f) => f.path.startsWith(`${folder}/`) && !f.path.slice(folder.length + 1).includes("/"));
        const extra = opts.extraListing ?? [];
        if (folder !== undefined && listed.length === 0 && extra.length === 0) {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "Entry not found" }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify([
            ...listed.map((f) => ({
              type: "file",
              path: f.path,
              size: f.content.length,
              oid: createHash("sha1").update(`blob ${f.content.length}\0`).update(f.content).digest("hex"),
              ...lfsOf(f),
              ...(f.listedSize !== undefined ? { lfs: { ...lfsOf(f).lfs, size: f.listedSize } } : {}),
            })),
            ...extra,
          ]),
        );
        return;
      }
      if (req.method === "GET" && new RegExp(`^${api}/revision/`).test(req.url ?? "")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: repo, sha: (commits.length > 1 ? commits.shift() : commits[0]) ?? commit }));
        return;
      }
      const dl = new RegExp(`^${resolvePrefix}/resolve/([^/]+)/(.+)$`).exec(req.url ?? "");
      const file = dl ? files.find((f) => f.path === decodeURIComponent(dl[2] ?? "")) : undefined;
      if (req.method === "GET" && file && opts.redirectTo) {
        res.writeHead(302, { location: `${opts.redirectTo}${req.url}` });
        res.end();
        return;
      }
      if (req.method === "GET" && file && opts.endless) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const block = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(block));
          if (!res.destroyed) res.once("drain", pump);
        };
        res.on("close", () => res.removeAllListeners("drain"));
        pump();
        return;
      }
      if (req.method === "GET" && file) {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
        const start = m ? Number(m[1]) : 0;
        const chunk = file.content.subarray(start);
        res.writeHead(m ? 206 : 200, {
          "content-length": String(chunk.length),
          ...(m ? { "content-range": `bytes ${start}-${file.content.length - 1}/${file.content.length}` } : {}),
        });
        if (failOnce !== undefined) {
          // Send part of the body, then drop the connection (an interrupted download).
          res.write(chunk.subarray(0, failOnce));
          failOnce = undefined;
          setTimeout(() => res.destroy(), 20);
          return;
        }
        res.end(chunk);
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "Repository not found" }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, commit, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Per-test isolation for Hub tests: no token or offline flag from the environment, a fresh cache
 * folder, the environment restored afterwards, and the returned list's closers run after each test.
 */
export function isolateHubEnv(): (() => Promise<void>)[] {
  const saved = { ...process.env };
  const closers: (() => Promise<void>)[] = [];
  beforeEach(() => {
    delete process.env.HF_TOKEN;
    delete process.env.HUGGING_FACE_HUB_TOKEN;
    delete process.env.HF_HUB_OFFLINE;
    process.env.WEIGHTBRIDGE_CACHE = tempDir("wb-cache-");
  });
  afterEach(async () => {
    process.env = { ...saved };
    for (const c of closers.splice(0)) await c();
  });
  return closers;
}
