import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";

const TRENDING = join(import.meta.dirname, "../../../shared/data/hf-trending-2026.jsonl");

function trendingRows(): { snapshot: string; id: string; author: string; downloads: number }[] {
  if (!existsSync(TRENDING)) throw new Error(`missing ${TRENDING}: the shared data folder must sit beside the checkout`);
  return readFileSync(TRENDING, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { snapshot: string; id: string; author: string; downloads: number });
}

describe("scoreboard on the shared trending file", () => {
  it("ingests every snapshot once, and uploader shares match an independent computation", async () => {
    const env = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db") };
    const rows = trendingRows();
    const times = [...new Set(rows.map((r) => r.snapshot))];
    const ing = await runCli(["scoreboard", "ingest", "--from", TRENDING, "--json"], { env });
    expect(JSON.parse(ing.stdout)).toEqual({ snapshots: times.length, skipped: 0, models: rows.length });
    const again = await runCli(["scoreboard", "ingest", "--from", TRENDING, "--json"], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ snapshots: 0, skipped: times.length });

    // Independent: the latest snapshot's downloads per author.
    const lastTime = times
      .map((t) => new Date(t).toISOString())
      .sort()
      .at(-1) as string;
    const latest = rows.filter((r) => new Date(r.snapshot).toISOString() === lastTime);
    const byAuthor = new Map<string, number>();
    for (const r of latest) byAuthor.set(r.author, (byAuthor.get(r.author) ?? 0) + r.downloads);
    const total = [...byAuthor.values()].reduce((a, b) => a + b, 0);
    const show = await runCli(["scoreboard", "show", "--by", "uploader", "--json"], { env });
    expect(show.code, show.stderr).toBe(0);
    const out = JSON.parse(show.stdout) as {
      snapshot: string;
      by: string;
      metric: string;
      total: number;
      rows: { key: string; downloads: number; models: number; share: number }[];
    };
    expect(out).toMatchObject({ snapshot: lastTime, by: "uploader", metric: "downloads", total });
    for (const r of out.rows) {
      expect(r.downloads).toBe(byAuthor.get(r.key));
      expect(r.share).toBeCloseTo((byAuthor.get(r.key) ?? 0) / total, 6);
    }
    expect(out.rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 5);

    // Country view: Qwen-family rows (first-party or by name) are Chinese; shares sum to 1; attribution counts add up.
    const country = JSON.parse(
      (await runCli(["scoreboard", "show", "--by", "country", "--since", "2026-03-01", "--json", "--chart", join(tempDir(), "c.svg")], { env })).stdout,
    ) as {
      rows: { key: string; downloads: number; share: number }[];
      total: number;
      attribution: Record<string, number>;
      byUploader: { rows: { key: string }[] };
      movers: { rows: { delta: number }[] };
      series: { times: string[]; keys: { key: string; shares: number[] }[] };
    };
    const qwenDownloads = latest.filter((r) => /qwen/i.test(r.id) && !/deepseek/i.test(r.id)).reduce((a, r) => a + r.downloads, 0);
    expect(country.rows.find((r) => r.key === "CN")?.downloads).toBeGreaterThanOrEqual(qwenDownloads);
    expect(country.rows.reduce((a, r) => a + r.downloads, 0)).toBe(country.total);
    expect(Object.values(country.attribution).reduce((a, b) => a + b, 0)).toBe(latest.length);
    expect(country.byUploader.rows.length).toBeGreaterThan(0);
    expect(country.movers.rows.reduce((a, m) => a + m.delta, 0)).toBeCloseTo(0, 5);
    for (let i = 0; i < country.series.times.length; i++) expect(country.series.keys.reduce((a, k) => a + (k.shares[i] ?? 0), 0)).toBeCloseTo(1, 4);
  });

  it("writes charts that read on their own", async () => {
    const env = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db") };
    await runCli(["scoreboard", "ingest", "--from", TRENDING], { env });
    const dir = tempDir();
    await runCli(["scoreboard", "show", "--by", "family", "--chart", join(dir, "bars.svg")], { env });
    await runCli(["scoreboard", "show", "--by", "lab", "--since", "2026-03-01", "--chart", join(dir, "stack.svg")], { env });
    const bars = readFileSync(join(dir, "bars.svg"), "utf8");
    expect(bars).toMatch(/^<svg/);
    expect(bars).toMatch(/Hugging Face downloads share by family, 2026-08-22/);
    expect((bars.match(/class="bar"/g) ?? []).length).toBeGreaterThan(1);
    const stack = readFileSync(join(dir, "stack.svg"), "utf8");
    expect((stack.match(/class="band"/g) ?? []).length).toBeGreaterThan(2);
    expect(stack).toMatch(/class="legend"[^>]*>Alibaba Cloud \(Qwen team\)/);
  });

  it("explains a missing snapshot date and an empty store", async () => {
    const env = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db") };
    const empty = await runCli(["scoreboard", "show"], { env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no snapshots in the store yet/);
    await runCli(["scoreboard", "ingest", "--from", TRENDING], { env });
    const bad = await runCli(["scoreboard", "show", "--snapshot", "2020-01-01"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no snapshot on 2020-01-01/);
  });

  it("reports a malformed JSONL line by file and line", async () => {
    const dir = tempDir();
    writeFiles(dir, { "m.jsonl": '{"id": "Qwen/Qwen3-8B", "downloads": 5}\n{"id": 7}\n' });
    const r = await runCli(["scoreboard", "ingest", "--from", join(dir, "m.jsonl")], { env: { WEIGHTBRIDGE_DATABASE_URL: join(dir, "sb.db") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/m\.jsonl:2: not a Hub model object/);
  });
});

/** A local server speaking the Hub's /api/models: cursor paging, one 429, missing fields, optional failure. */
async function hub(opts: { failPage?: number } = {}) {
  const models = Array.from({ length: 25 }, (_, i) => ({
    id: i % 5 === 0 ? `Qwen/Qwen3-${i}B` : i % 5 === 1 ? `unsloth/Llama-3.1-${i}B-GGUF` : `org${i}/model-${i}`,
    ...(i % 3 === 0 ? {} : { downloads: 1000 - i, likes: i }),
    ...(i % 5 === 1 ? { tags: ["gguf", `base_model:quantized:meta-llama/Llama-3.1-${i}B`] } : {}),
  }));
  const seen: { url: string; auth?: string }[] = [];
  let limited = false;
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const u = new URL(req.url ?? "", "http://x");
    if (u.pathname !== "/api/models") {
      res.writeHead(404).end();
      return;
    }
    const cursor = Number(u.searchParams.get("cursor") ?? 0);
    if (cursor === 10 && !limited) {
      limited = true;
      res.writeHead(429, { "retry-after": "1", "content-type": "application/json" }).end('{"error":"rate limited"}');
      return;
    }
    if (opts.failPage !== undefined && cursor === opts.failPage * 10) {
      res.writeHead(500).end("boom");
      return;
    }
    const page = models.slice(cursor, cursor + 10);
    const next =
      cursor + 10 < models.length
        ? `<http://127.0.0.1:${(server.address() as AddressInfo).port}/api/models?cursor=${cursor + 10}&limit=10>; rel="next"`
        : undefined;
    res.writeHead(200, { "content-type": "application/json", ...(next ? { link: next } : {}) }).end(JSON.stringify(page));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("scoreboard ingest --from hub", () => {
  it("follows the cursor, retries a 429 honouring Retry-After, tolerates missing fields, sends HF_TOKEN", async () => {
    const h = await hub();
    try {
      const env = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db"), HF_ENDPOINT: h.url, HF_TOKEN: "hf_secret" };
      const t0 = Date.now();
      const r = await runCli(["scoreboard", "ingest", "--from", "hub", "--limit", "25", "--filter", "text-generation", "--json"], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ snapshots: 1, skipped: 0, models: 25 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // waited for Retry-After
      const first = new URL(h.seen[0]?.url ?? "", "http://x");
      expect(first.searchParams.get("sort")).toBe("downloads");
      expect(first.searchParams.get("filter")).toBe("text-generation");
      expect(first.searchParams.getAll("expand[]")).toEqual(
        expect.arrayContaining(["downloads", "downloadsAllTime", "likes", "tags", "createdAt", "library_name", "pipeline_tag", "safetensors"]),
      );
      expect(h.seen.every((s) => s.auth === "Bearer hf_secret")).toBe(true);
      expect(h.seen.filter((s) => s.url.includes("cursor=10"))).toHaveLength(2); // the 429, then the retry
      const show = JSON.parse((await runCli(["scoreboard", "show", "--by", "country", "--metric", "models", "--json"], { env })).stdout) as {
        rows: { key: string; models: number }[];
        attribution: Record<string, number>;
      };
      expect(show.rows.find((x) => x.key === "CN")?.models).toBe(5);
      expect(show.rows.find((x) => x.key === "US")?.models).toBe(5);
      expect(show.attribution).toMatchObject({ "first-party": 5, "base_model tag": 5, unknown: 15 });
    } finally {
      await h.close();
    }
  });

  it("leaves no half snapshot when paging fails", async () => {
    const h = await hub({ failPage: 2 });
    try {
      const env = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db"), HF_ENDPOINT: h.url };
      const r = await runCli(["scoreboard", "ingest", "--from", "hub", "--limit", "25"], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/HTTP 500/);
      const show = await runCli(["scoreboard", "show"], { env });
      expect(show.stderr).toMatch(/no snapshots in the store yet/);
    } finally {
      await h.close();
    }
  });
});
