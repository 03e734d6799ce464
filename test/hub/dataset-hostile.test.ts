/**
 * A hostile Hub (or a man in the middle on HF_ENDPOINT) against hf: dataset entries: listings that
 * name paths outside the split's folder or with control bytes, oids that are not sha256, 10^5
 * shards, a shard larger than any Parquet we read, a download that never ends, a redirect to another
 * origin (HF_TOKEN must not follow it), a revision that answers another commit each time, and a
 * cache manifest edited on disk. Each is refused with a one-line UserError or made harmless.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSuiteAsync } from "../../src/config/suite.js";
import { fetchDatasetSplit } from "../../src/hub/index.js";
import { UserError } from "../../src/util/errors.js";
import { startForwardProxy } from "../support/forward-proxy.js";
import { type HubFile, isolateHubEnv, startHub } from "../support/hub-server.js";
import { claimRows, parquetBytes, qaColumns } from "../support/parquet.js";
import { tempDir, writeFiles } from "../support/project.js";

const closers = isolateHubEnv();

const REPO = "acme/hostile";
const shard = parquetBytes(qaColumns(20, 0));
const FILES: HubFile[] = [{ path: "default/test/0000.parquet", content: shard }];
const REF = { dataset: REPO, config: "default", split: "test" };
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

async function hub(files: HubFile[] = FILES, opts: Parameters<typeof startHub>[2] = {}, endpoint = true) {
  const h = await startHub(REPO, files, { repoType: "dataset", ...opts });
  closers.push(h.close);
  if (endpoint) process.env.HF_ENDPOINT = h.url;
  return h;
}

async function userError(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof UserError) return e;
  throw e ?? new Error("expected a UserError");
}

function entry(path: string, o: { size?: number; oid?: string } = {}) {
  return { type: "file", path, size: 134, oid: "a".repeat(40), lfs: { oid: o.oid ?? sha(path), size: o.size ?? 100, pointerSize: 134 } };
}

describe("a hostile listing", () => {
  const bad = [
    "default/test/../../../../escape.parquet",
    "/etc/escape.parquet",
    "default/test/sub/../../../x.parquet",
    "default/test/a\nb.parquet",
    "default/test/a\u0000b.parquet",
    "default/test/..\\..\\x.parquet",
    "default/test/sub/deeper.parquet",
    "default/testX/0000.parquet",
  ];
  for (const path of bad)
    it(`refuses a listed path ${JSON.stringify(path)} before writing anything`, async () => {
      await hub(FILES, { extraListing: [entry(path)] });
      const e = await userError(fetchDatasetSplit(REF));
      expect(e.message).toMatch(/listed a path|not a plain file name/);
      expect(e.message).not.toMatch(/\n/);
      expect(existsSync(join(process.env.WEIGHTBRIDGE_CACHE as string, "escape.parquet"))).toBe(false);
    });

  it("refuses an LFS oid that is not a sha256 (nothing could be verified against it)", async () => {
    await hub(FILES, { extraListing: [entry("default/test/0001.parquet", { oid: "../../x" })] });
    expect((await userError(fetchDatasetSplit(REF))).message).toMatch(/0001\.parquet.*sha256/);
  });

  it("refuses 10^5 shards before downloading any", async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => entry(`default/test/${String(i + 1).padStart(6, "0")}.parquet`));
    const h = await hub(FILES, { extraListing: many });
    const e = await userError(fetchDatasetSplit(REF));
    expect(e.message).toMatch(/more than 10000 Parquet files, over the limit/);
    expect(h.requests.filter((r) => r.url.includes("/resolve/"))).toEqual([]);
  });

  it("refuses a shard whose declared size is over the Parquet limit before downloading it", async () => {
    const h = await hub(FILES, { extraListing: [entry("default/test/0001.parquet", { size: 2 ** 40 })] });
    expect((await userError(fetchDatasetSplit(REF))).message).toMatch(/0001\.parquet.*over the .* limit/);
    expect(h.requests.filter((r) => r.url.includes("/resolve/"))).toEqual([]);
  });
});

describe("hostile shards", () => {
  it("shards each under the row limit but over it together are refused before any row is decoded", async () => {
    const big = claimRows(parquetBytes(qaColumns(100)), 100, 6_000_000);
    await hub([
      { path: "default/test/0000.parquet", content: big },
      { path: "default/test/0001.parquet", content: big },
    ]);
    const dir = tempDir();
    writeFiles(dir, {
      "suite.yaml": `name: qa\ncases:\n  - hf: { dataset: ${REPO} }\n    prompt: "{{question}}"\n    expect: { type: equals, value: "{{answer}}" }\n`,
    });
    const e = await userError(loadSuiteAsync(join(dir, "suite.yaml")));
    expect(e.message).toMatch(/hf:acme\/hostile .*12000000 rows, over the limit of 10000000/);
  });

  it("a revision of . or .. or with control bytes is refused before it names a cache file", async () => {
    await hub();
    for (const revision of ["..", ".", "main\n", "a\u0000b"])
      expect((await userError(fetchDatasetSplit({ ...REF, revision }))).message).toMatch(/revision .* is not a usable name/);
  });
});

describe("a hostile download", () => {
  it("a shard whose file info declares another size than the listing is refused before downloading", async () => {
    const h = await hub([{ path: "default/test/0000.parquet", content: shard, listedSize: 10 }]);
    expect((await userError(fetchDatasetSplit(REF))).message).toMatch(/0000\.parquet: the Hub declares \d+ bytes, expected 10/);
    expect(h.requests.filter((r) => r.url.includes("/resolve/"))).toEqual([]);
  });

  it("a shard that streams without end is cut at its declared size and discarded", async () => {
    await hub(FILES, { endless: true });
    const e = await userError(fetchDatasetSplit(REF));
    expect(e.message).toMatch(/more than the \d+ bytes/);
    const dir = join(process.env.WEIGHTBRIDGE_CACHE as string, "hf-datasets", "acme", "hostile");
    const leftovers = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
    expect(leftovers.filter((f) => f.endsWith(".part") || f.endsWith(".parquet"))).toEqual([]);
  });

  it("HF_TOKEN is not sent to another origin that a redirect names, and the file still verifies", async () => {
    const cdn = await hub(FILES, {}, false);
    const h = await hub(FILES, { redirectTo: cdn.url });
    process.env.HF_TOKEN = "hf_secret_token";
    const r = await fetchDatasetSplit(REF);
    expect(r.files.map((f) => f.sha256)).toEqual([sha(shard)]);
    expect(h.requests.some((q) => q.url.includes("/resolve/") && q.auth === "Bearer hf_secret_token")).toBe(true);
    const atCdn = cdn.requests.filter((q) => q.url.includes("/resolve/"));
    expect(atCdn.length).toBe(1);
    expect(atCdn[0]?.auth).toBeUndefined();
  });
});

describe("a hostile redirect through HTTP_PROXY (undici's fetch, not Node's)", () => {
  it("HF_TOKEN is not sent to the other host either", async () => {
    const cdn = await hub(FILES, {}, false);
    const cdnPort = Number(new URL(cdn.url).port);
    const h = await hub(FILES, { redirectTo: `http://cdn.weightbridge.test:${cdnPort}` }, false);
    const port = Number(new URL(h.url).port);
    const routes: Record<string, number> = { "hub.weightbridge.test": port, "cdn.weightbridge.test": cdnPort };
    const proxy = await startForwardProxy({ route: (host) => (routes[host] ? { host: "127.0.0.1", port: routes[host] as number } : undefined) });
    closers.push(() => proxy.close());
    process.env.HF_ENDPOINT = `http://hub.weightbridge.test:${port}`;
    process.env.HTTP_PROXY = proxy.url.href;
    process.env.NO_PROXY = "";
    process.env.HF_TOKEN = "hf_secret_token";
    const r = await fetchDatasetSplit(REF);
    expect(r.files.map((f) => f.sha256)).toEqual([sha(shard)]);
    expect(proxy.seen.forwarded.some((l) => l.startsWith(`GET http://cdn.weightbridge.test:${cdnPort}/datasets/`))).toBe(true);
    expect(h.requests.some((q) => q.url.includes("/resolve/") && q.auth === "Bearer hf_secret_token")).toBe(true);
    const atCdn = cdn.requests.filter((q) => q.url.includes("/resolve/"));
    expect(atCdn.length).toBe(1);
    expect(atCdn[0]?.auth).toBeUndefined();
  });
});

describe("cache poisoning", () => {
  const A = "a".repeat(40);
  const B = "b".repeat(40);

  it("a branch that resolves to another commit on the next call is read from that commit's own folder", async () => {
    const other = parquetBytes(qaColumns(7, 500));
    const h1 = await hub(FILES, { commits: [A] });
    const first = await fetchDatasetSplit(REF);
    await h1.close();
    closers.pop();
    await hub([{ path: "default/test/0000.parquet", content: other }], { commits: [B] });
    const second = await fetchDatasetSplit(REF);
    expect([first.commit, second.commit]).toEqual([A, B]);
    expect(second.files[0]?.sha256).toBe(sha(other));
    expect(second.downloaded).toBe(1);
    // The first commit's file is untouched: a later pin to A still reads A's bytes.
    expect(sha(readFileSync(first.files[0]?.local as string))).toBe(sha(shard));
  });

  it("a manifest edited on disk to point outside the cache is not followed", async () => {
    await hub(FILES, { commits: [A] });
    const r = await fetchDatasetSplit(REF);
    const manifest = join(process.env.WEIGHTBRIDGE_CACHE as string, "hf-datasets", "acme", "hostile", r.commit, "default.test.manifest.json");
    const m = JSON.parse(readFileSync(manifest, "utf8"));
    const target = join(process.env.WEIGHTBRIDGE_CACHE as string, "outside.parquet");
    m.files[0].path = "../../../../../outside.parquet";
    writeFileSync(manifest, JSON.stringify(m));
    const again = await fetchDatasetSplit(REF);
    expect(again.files.map((f) => f.path)).toEqual(["default/test/0000.parquet"]);
    expect(existsSync(target)).toBe(false);
  });
});
