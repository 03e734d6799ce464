/**
 * Hub dataset splits as Parquet (issue 20): a local server on 127.0.0.1 speaks the Hub's protocol
 * (revision, tree listing of {config}/{split} on refs/convert/parquet, paths-info, resolve with Range)
 * and serves real Parquet files written in the test. The rows, the commit and the file hashes are
 * recorded; a second load at the same commit downloads nothing; a bad mirror or a refusal is a
 * clear error.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSuiteAsync } from "../../src/config/suite.js";
import { fetchDatasetSplit } from "../../src/hub/index.js";
import { UserError } from "../../src/util/errors.js";
import { startForwardProxy } from "../support/forward-proxy.js";
import { type HubFile, isolateHubEnv, startHub } from "../support/hub-server.js";
import { parquetBytes, qaColumns } from "../support/parquet.js";
import { tempDir, writeFiles } from "../support/project.js";

const closers = isolateHubEnv();

const REPO = "acme/support-tickets";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const shard0 = parquetBytes(qaColumns(300, 0), { rowGroupSize: 128 });
const shard1 = parquetBytes(qaColumns(200, 300), { rowGroupSize: 128 });
const FILES = [
  { path: "default/test/0000.parquet", content: shard0 },
  { path: "default/test/0001.parquet", content: shard1 },
  { path: "default/train/0000.parquet", content: parquetBytes(qaColumns(5, 9000)) },
];

async function hub(files: HubFile[] = FILES, opts: Parameters<typeof startHub>[2] = {}) {
  const h = await startHub(REPO, files, { repoType: "dataset", ...opts });
  closers.push(h.close);
  process.env.HF_ENDPOINT = h.url;
  return h;
}

function suite(hf: string): string {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": `name: qa
cases:
  - hf: { dataset: ${REPO}, ${hf} }
    prompt: "{{question}}"
    expect: { type: equals, value: "{{answer}}" }
`,
  });
  return join(dir, "suite.yaml");
}

async function userError(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof UserError) return e;
  throw e ?? new Error("expected a UserError");
}

describe("hf: dataset entries read Parquet through the Hub protocol", () => {
  it("reads every shard of the split, records revision, commit and file hashes, and sends HF_TOKEN", async () => {
    const h = await hub();
    process.env.HF_TOKEN = "hf_dataset_token";
    const s = await loadSuiteAsync(suite("config: default, split: test"));
    expect(s.cases).toHaveLength(500);
    expect(s.cases[420]).toMatchObject({ vars: { id: 420, question: "What is 420 plus one?" }, expects: [{ type: "equals", value: "421" }] });
    expect(s.cases[420]?.source).toBe(`hf:${REPO}@${h.commit.slice(0, 12)}/default/test/0001.parquet#row 121`);
    expect(s.datasets).toEqual([
      {
        kind: "hf",
        dataset: REPO,
        config: "default",
        split: "test",
        revision: "refs/convert/parquet",
        commit: h.commit,
        partial: false,
        files: [
          { path: "default/test/0000.parquet", size: shard0.length, sha256: sha(shard0) },
          { path: "default/test/0001.parquet", size: shard1.length, sha256: sha(shard1) },
        ],
        rows: 500,
        used: 500,
      },
    ]);
    expect(h.requests.map((r) => `${r.method} ${r.url}`)).toContain(`GET /api/datasets/${REPO}/revision/refs%2Fconvert%2Fparquet`);
    expect(h.requests.some((r) => r.url.startsWith(`/api/datasets/${REPO}/tree/${h.commit}/default/test`))).toBe(true);
    expect(h.requests.filter((r) => r.url.startsWith(`/datasets/${REPO}/resolve/${h.commit}/`))).toHaveLength(2);
    expect(h.requests.every((r) => r.auth === "Bearer hf_dataset_token")).toBe(true);
  });

  it("samples limit rows by seed across shards, and a second load at the same commit downloads nothing", async () => {
    const h = await hub();
    const file = suite("split: test, limit: 40, seed: 3");
    const first = await loadSuiteAsync(file);
    const downloads = () => h.requests.filter((r) => r.url.includes("/resolve/")).length;
    expect(downloads()).toBe(2);
    const ids = first.cases.map((c) => c.vars.id as number);
    expect(ids).toHaveLength(40);
    expect(ids.some((i) => i >= 300)).toBe(true); // rows from both shards
    expect(first.datasets?.[0]).toMatchObject({ rows: 500, used: 40, limit: 40, seed: 3 });
    const before = h.requests.length;
    const again = await loadSuiteAsync(file);
    expect(again.cases.map((c) => c.vars.id)).toEqual(ids);
    expect(downloads()).toBe(2);
    // Only the revision lookup went out (the branch may have moved); listing and files came from the cache.
    expect(h.requests.slice(before).map((r) => r.url)).toEqual([`/api/datasets/${REPO}/revision/refs%2Fconvert%2Fparquet`]);
    // Pinned to the recorded commit, a load sends nothing at all.
    const pinned = before + 1;
    const third = await loadSuiteAsync(suite(`split: test, limit: 40, seed: 3, revision: ${h.commit}`));
    expect(third.cases.map((c) => c.vars.id)).toEqual(ids);
    expect(h.requests.length).toBe(pinned);
  });

  it("HF_HUB_OFFLINE=1 reads a cached split with no request at all, and says clearly what is not cached", async () => {
    const h = await hub();
    const file = suite("split: test, limit: 10, seed: 5");
    const online = await loadSuiteAsync(file);
    const before = h.requests.length;
    process.env.HF_HUB_OFFLINE = "1";
    const cached = await loadSuiteAsync(file);
    expect(cached.cases.map((c) => c.vars)).toEqual(online.cases.map((c) => c.vars));
    expect(cached.datasets?.[0]).toMatchObject({ commit: h.commit, revision: "refs/convert/parquet" });
    expect(h.requests.length).toBe(before);
    const notCached = await userError(loadSuiteAsync(suite("split: test, revision: main")));
    expect(notCached.message).toMatch(/HF_HUB_OFFLINE is set and revision "main" is not in the cache/);
    const otherSplit = await userError(loadSuiteAsync(suite(`split: train, revision: ${h.commit}`)));
    expect(otherSplit.message).toMatch(/HF_HUB_OFFLINE is set and this split at [0-9a-f]{12} is not in the cache/);
    expect(h.requests.length).toBe(before);
  });

  it("a cached shard whose bytes changed is not trusted: it is downloaded again", async () => {
    const h = await hub();
    const file = suite("split: test");
    await loadSuiteAsync(file);
    const local = join(process.env.WEIGHTBRIDGE_CACHE as string, "hf-datasets", ...REPO.split("/"), h.commit, "default", "test", "0001.parquet");
    const bytes = readFileSync(local);
    bytes[100] = (bytes[100] as number) ^ 0xff; // same size, other bytes
    writeFileSync(local, bytes);
    const again = await loadSuiteAsync(file);
    expect(again.cases).toHaveLength(500);
    expect(h.requests.filter((r) => r.url.endsWith("/0001.parquet"))).toHaveLength(2);
    expect(h.requests.filter((r) => r.url.endsWith("/0000.parquet"))).toHaveLength(1);
    expect(readFileSync(local).equals(shard1)).toBe(true);
  });

  it("resumes an interrupted shard download with a Range request", async () => {
    const h = await hub(FILES, { failAfterBytes: 1000 });
    await expect(loadSuiteAsync(suite("split: test"))).rejects.toThrow();
    const s = await loadSuiteAsync(suite("split: test"));
    expect(s.cases).toHaveLength(500);
    expect(h.requests.some((r) => r.range === "bytes=1000-")).toBe(true);
  });

  it("falls back to a partial conversion ({config}/partial-{split}) and says so", async () => {
    await hub([{ path: "default/partial-test/0000.parquet", content: shard1 }]);
    const r = await fetchDatasetSplit({ dataset: REPO, config: "default", split: "test" });
    expect(r).toMatchObject({ partial: true, downloaded: 1, files: [{ path: "default/partial-test/0000.parquet", sha256: sha(shard1) }] });
  });

  it("a mirror serving other bytes than the listing's sha256 is refused and nothing is cached", async () => {
    await hub([{ path: "default/test/0000.parquet", content: shard0, lieAboutHash: true }]);
    const e = await userError(loadSuiteAsync(suite("split: test")));
    expect(e.message).toMatch(/sha256 mismatch/);
    const again = await userError(loadSuiteAsync(suite("split: test")));
    expect(again.message).toMatch(/sha256 mismatch/);
  });

  it("a Parquet file that is not Parquet on the Hub is an error naming the dataset file", async () => {
    await hub([{ path: "default/test/0000.parquet", content: Buffer.from("<html>not parquet</html>") }]);
    const e = await userError(loadSuiteAsync(suite("split: test")));
    expect(e.message).toMatch(new RegExp(`^hf:${REPO}@[0-9a-f]{12}/default/test/0000\\.parquet: not a readable Parquet file`));
  });

  it("an unknown split, a refusal (401) and an unreachable Hub are clear errors", async () => {
    await hub();
    const missing = await userError(loadSuiteAsync(suite("split: validation")));
    expect(missing.message).toMatch(/no Parquet files under default\/validation\//);
    await hub(FILES, { status: 401 });
    const refused = await userError(loadSuiteAsync(suite("split: test")));
    expect(refused.message).toMatch(/HTTP 401/);
    expect(refused.hint).toMatch(/HF_TOKEN/);
    process.env.HF_ENDPOINT = "http://127.0.0.1:1";
    const down = await userError(loadSuiteAsync(suite("split: test")));
    expect(down.message).toMatch(/cannot reach the Hub at http:\/\/127\.0\.0\.1:1/);
  });

  it("goes through HTTP_PROXY for every request (revision, listing, file info, download)", async () => {
    const h = await hub();
    const port = Number(new URL(h.url).port);
    const proxy = await startForwardProxy({ route: (host) => (host === "hub.weightbridge.test" ? { host: "127.0.0.1", port } : undefined) });
    closers.push(() => proxy.close());
    process.env.HF_ENDPOINT = `http://hub.weightbridge.test:${port}`;
    process.env.HTTP_PROXY = proxy.url.href;
    process.env.NO_PROXY = "";
    const s = await loadSuiteAsync(suite("split: test, limit: 3"));
    expect(s.cases).toHaveLength(3);
    const at = `http://hub.weightbridge.test:${port}`;
    expect([...proxy.seen.forwarded].sort()).toEqual(
      [
        `GET ${at}/api/datasets/${REPO}/revision/refs%2Fconvert%2Fparquet`,
        `GET ${at}/api/datasets/${REPO}/tree/${h.commit}/default/test?recursive=false&expand=false`,
        `POST ${at}/api/datasets/${REPO}/paths-info/${h.commit}`,
        `POST ${at}/api/datasets/${REPO}/paths-info/${h.commit}`,
        `GET ${at}/datasets/${REPO}/resolve/${h.commit}/default/test/0000.parquet`,
        `GET ${at}/datasets/${REPO}/resolve/${h.commit}/default/test/0001.parquet`,
      ].sort(),
    );
  });

  it("examples/datasets/hub.yaml reads a class-label (int) column into a label expectation", async () => {
    const reviews = parquetBytes([
      { name: "text", data: ["A wonderful film.", "Dull and far too long."], type: "STRING" },
      { name: "label", data: [1n, 0n], type: "INT64" },
    ]);
    const h = await startHub("stanfordnlp/imdb", [{ path: "plain_text/test/0000.parquet", content: reviews }], { repoType: "dataset" });
    closers.push(h.close);
    process.env.HF_ENDPOINT = h.url;
    const s = await loadSuiteAsync(fileURLToPath(new URL("../../examples/datasets/hub.yaml", import.meta.url)));
    expect(s.cases.map((c) => [c.messages[1]?.content, c.expects[0]])).toEqual([
      ["A wonderful film.", { type: "label", value: "1" }],
      ["Dull and far too long.", { type: "label", value: "0" }],
    ]);
    expect(s.datasets?.[0]).toMatchObject({ dataset: "stanfordnlp/imdb", config: "plain_text", split: "test", rows: 2, used: 2, limit: 200, seed: 1 });
  });

  it("refuses names that would leave the cache folder", async () => {
    await hub();
    const e = await userError(fetchDatasetSplit({ dataset: REPO, config: "..", split: "test" }));
    expect(e.message).toMatch(/config "\.\." is not a plain name/);
  });
});
