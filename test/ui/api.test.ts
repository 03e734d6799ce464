/** The UI's JSON API over a real store filled by real eval/redteam runs and real gateway traffic. */

import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreHandle, saveSnapshot } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { buildUiFixture, HOSTILE, type UiFixture } from "./fixture.js";

let fx: UiFixture;
let store: StoreHandle;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  fx = await buildUiFixture(60);
  store = await openStore(fx.db);
  app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 180_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
});

async function get<T = Record<string, unknown>>(path: string, status = 200): Promise<T> {
  const r = await fetch(base + path);
  const body = await r.text();
  expect(r.status, `${path}: ${body.slice(0, 300)}`).toBe(status);
  return JSON.parse(body) as T;
}

interface CaseRow {
  suite: string;
  caseIndex: number;
  model: string;
  passed: boolean;
  baselinePassed: boolean | null;
  changed: string | null;
  output: string;
  score: number;
  latencyMs: number;
}
type CasesPage = { rows: CaseRow[]; total: number; hasMore: boolean };

describe("the UI's JSON API", () => {
  it("lists runs of every kind, newest first, with keyset pages and filters", async () => {
    const all = await get<{ runs: { id: string; kind: string; models: string[]; results: number; status: string }[] }>("/api/v1/runs");
    expect(all.runs.map((r) => r.id)).toEqual([fx.redteam, fx.evalB, fx.evalA]);
    expect(all.runs[2]).toMatchObject({ kind: "eval", status: "completed", models: ["alpha", "beta", "hostile"], results: 180 });
    const p1 = await get<{ runs: { id: string }[]; nextCursor: string }>("/api/v1/runs?limit=2");
    expect(p1.runs.map((r) => r.id)).toEqual([fx.redteam, fx.evalB]);
    const p2 = await get<{ runs: { id: string }[]; nextCursor: string | null }>(`/api/v1/runs?limit=2&cursor=${encodeURIComponent(p1.nextCursor)}`);
    expect(p2).toMatchObject({ runs: [{ id: fx.evalA }], nextCursor: null });
    expect((await get<{ runs: unknown[] }>("/api/v1/runs?kind=redteam")).runs).toHaveLength(1);
    expect((await get<{ runs: unknown[] }>(`/api/v1/runs?q=${fx.evalA.slice(-4)}`)).runs).toHaveLength(1);
    const bad = await get<{ error: string; hint: string }>("/api/v1/runs?limit=100000", 400);
    expect(bad.error).toMatch(/limit/);
  });

  it("a run's page is its Report (the same one `report --format json` builds)", async () => {
    const r = await get<{
      report: { baseline: string; candidates: { id: string; verdict: string }[]; changedCounts: Record<string, { regressions: number }> };
    }>(`/api/v1/runs/${fx.evalA}?wait=1`);
    expect(r.report.baseline).toBe("alpha");
    expect(r.report.candidates.map((c) => c.id)).toEqual(["beta", "hostile"]);
    const cases = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?model=beta&filter=regressions&limit=500`);
    expect(cases.total).toBe(r.report.changedCounts.beta?.regressions);
    await get(`/api/v1/runs/nope`, 404);
  });

  it("builds a big run's Report in a child process: the same Report", async () => {
    // eval kept the run's Report: remove it (a store from before that) so that this server builds one.
    store.sqlite?.prepare("delete from run_reports where run_id = ?").run(fx.evalA);
    const child = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui"), reportInChildAbove: 0 });
    try {
      const url = `http://127.0.0.1:${(child.server.address() as { port: number }).port}/api/v1/runs/${fx.evalA}?wait=1`;
      const viaChild = (await (await fetch(url)).json()) as { report: unknown };
      const inProcess = await get<{ report: unknown }>(`/api/v1/runs/${fx.evalA}?wait=1`);
      expect(viaChild.report).toEqual(inProcess.report);
    } finally {
      await child.close();
    }
  });

  it("filters cases: failed, changed in both directions, errors, model, search; sorts and pages", async () => {
    const all = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?limit=500`);
    expect(all.total).toBe(180);
    const failed = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?filter=failed&limit=500`);
    expect(failed.rows.every((r) => !r.passed)).toBe(true);
    expect(failed.total).toBe(all.rows.filter((r) => !r.passed).length);
    const reg = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?filter=regressions&model=beta&limit=500`);
    const imp = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?filter=improvements&model=beta&limit=500`);
    const changed = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?filter=changed&model=beta&limit=500`);
    // Computed independently from the unfiltered page: beta's pass differs from alpha's on the same case.
    const alpha = new Map(all.rows.filter((r) => r.model === "alpha").map((r) => [r.caseIndex, r.passed]));
    const beta = all.rows.filter((r) => r.model === "beta");
    expect(reg.total).toBe(beta.filter((r) => alpha.get(r.caseIndex) && !r.passed).length);
    expect(imp.total).toBe(beta.filter((r) => !alpha.get(r.caseIndex) && r.passed).length);
    expect(reg.total).toBeGreaterThan(0);
    expect(changed.total).toBe(reg.total + imp.total);
    expect(reg.rows.every((r) => r.changed === "regression" && r.baselinePassed === true && !r.passed)).toBe(true);
    expect((await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?filter=errors`)).total).toBe(0);
    const hostile = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?q=${encodeURIComponent("onerror")}&limit=500`);
    expect(hostile.rows).toHaveLength(60);
    expect(hostile.rows.every((r) => r.model === "hostile" && r.output === HOSTILE)).toBe(true);
    const lit = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?q=${encodeURIComponent("100%_")}`);
    expect(lit.rows).toHaveLength(0);
    const pageA = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?limit=7&offset=0`);
    const pageB = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?limit=7&offset=7`);
    expect([...pageA.rows, ...pageB.rows]).toEqual(all.rows.slice(0, 14));
    // Pages past the middle are read from the other end: the same rows in the same order, for every sort.
    for (const sort of ["case&order=asc", "case&order=desc", "latency&order=desc", "score&order=asc"]) {
      const whole = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?sort=${sort}&limit=500`);
      for (const offset of [85, 91, 120, 175, 179, 180]) {
        const page = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?sort=${sort}&limit=7&offset=${offset}`);
        expect(page.rows, `${sort} @${offset}`).toEqual(whole.rows.slice(offset, offset + 7));
        expect(page.hasMore).toBe(offset + 7 < 180);
      }
    }
    const bySlow = await get<CasesPage>(`/api/v1/runs/${fx.evalA}/cases?sort=latency&order=desc&limit=500`);
    const lat = bySlow.rows.map((r) => r.latencyMs);
    expect(lat).toEqual([...lat].sort((a, b) => b - a));
    await get(`/api/v1/runs/${fx.redteam}/cases?filter=sideways`, 400);
  });

  it("a case: the exact messages, every model's output, grades, tokens, cost, latency, attempts", async () => {
    const c = await get<{
      messages: { role: string; content: string }[];
      results: { model: string; output: string; grades: { type: string }[]; attempts: number; costUsd: number }[];
    }>(`/api/v1/runs/${fx.evalA}/cases/intent/4`);
    expect(c.messages.at(-1)?.content).toBe("Case 4: message number 4");
    expect(c.results.map((r) => r.model)).toEqual(["alpha", "beta", "hostile"]);
    expect(c.results[2]?.output).toBe(HOSTILE);
    expect(c.results[0]?.grades[0]?.type).toBe("label");
    expect(c.results[0]?.attempts).toBe(1);
    expect(c.results[0]?.costUsd).toBeGreaterThan(0);
    await get(`/api/v1/runs/${fx.evalA}/cases/intent/999`, 404);
  });

  it("compares two runs with paired statistics", async () => {
    const r = await get<{ models: { modelA: string; comparison: { n: number; pValue: number }; changed: { direction: string }[] }[] }>(
      `/api/v1/compare?a=${fx.evalA}&b=${fx.evalB}`,
    );
    expect(r.models.map((m) => m.modelA)).toEqual(["alpha", "beta", "hostile"]);
    expect(r.models[0]?.comparison.n).toBe(60);
    expect(r.models[2]?.changed).toHaveLength(0);
  });

  it("red-team rates per pack and model, and transcripts of successful attacks", async () => {
    const r = await get<{ packs: { pack: string; models: { id: string; rate: number; ci95: number[] }[] }[] }>(`/api/v1/runs/${fx.redteam}/redteam`);
    const leak = r.packs.find((p) => p.pack === "system-prompt-leak");
    expect(leak?.models.find((m) => m.id === "echo")?.rate).toBe(1);
    expect(leak?.models.find((m) => m.id === "refuser")?.rate).toBe(0);
    const t = await get<{ transcripts: { model: string; messages: unknown[] }[] }>(
      `/api/v1/runs/${fx.redteam}/redteam/transcripts?pack=system-prompt-leak&limit=5`,
    );
    expect(t.transcripts).toHaveLength(5);
    expect(t.transcripts.every((x) => x.model === "echo" && x.messages.length > 0)).toBe(true);
    await get(`/api/v1/runs/${fx.evalA}/redteam`, 400);
  });

  it("gateway traffic over time, per key and per deployment, and the audit rows", async () => {
    const t = await get<{
      requests: number;
      series: { actions: Record<string, number>; classes: Record<string, number> }[];
      byKey: { name: string; requests: number }[];
    }>("/api/v1/gateway/traffic?bucket=minute");
    expect(t.requests).toBe(4);
    const actions: Record<string, number> = {};
    const classes: Record<string, number> = {};
    for (const b of t.series) {
      for (const [k, v] of Object.entries(b.actions)) actions[k] = (actions[k] ?? 0) + v;
      for (const [k, v] of Object.entries(b.classes)) classes[k] = (classes[k] ?? 0) + v;
    }
    expect(actions.blocked).toBe(1);
    expect(classes.EMAIL).toBe(1);
    expect(t.byKey.find((k) => k.name === "bot")?.requests).toBe(3);
    const a = await get<{ rows: { action: string }[] }>("/api/v1/gateway/audit?action=blocked");
    expect(a.rows).toHaveLength(1);
  });

  it("scoreboard shares from a stored snapshot", async () => {
    expect(await get("/api/v1/scoreboard")).toEqual({ snapshots: [], view: null });
    const model = (id: string, downloads: number) => ({
      id,
      author: id.split("/")[0] as string,
      downloads,
      downloadsAllTime: null,
      likes: 1,
      tags: [],
      createdAt: null,
      libraryName: null,
      pipelineTag: "text-generation",
      parameters: null,
    });
    await saveSnapshot(store.db, { id: "snap-1", takenAt: "2026-12-01T00:00:00Z", source: "test", sort: "downloads" }, [
      model("Qwen/Qwen3-8B", 600),
      model("meta-llama/Llama-3.1-8B-Instruct", 300),
      model("mistralai/Mistral-7B-Instruct-v0.3", 100),
    ]);
    const s = await get<{ snapshots: { id: string }[]; view: { rows: { key: string; share: number }[]; topModels: { id: string }[] } }>(
      "/api/v1/scoreboard?by=lab",
    );
    expect(s.snapshots.map((x) => x.id)).toEqual(["snap-1"]);
    expect(s.view.topModels[0]?.id).toBe("Qwen/Qwen3-8B");
    const total = s.view.rows.reduce((a, r) => a + r.share, 0);
    expect(total).toBeCloseTo(1, 6);
    expect(s.view.rows[0]?.share).toBeCloseTo(0.6, 6);
  });

  it("exports tables as CSV and JSONL, formula cells defused", async () => {
    const csv = await fetch(`${base}/api/v1/runs/${fx.evalA}/cases?model=hostile&limit=2&format=csv`);
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="cases-/);
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toMatch(/^suite,caseIndex,caseId,model/);
    const jsonl = await (await fetch(`${base}/api/v1/runs?format=jsonl`)).text();
    expect(
      jsonl
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual([fx.redteam, fx.evalB, fx.evalA]);
    const { toCsv } = await import("../../src/ui/server/export.js");
    expect(toCsv([{ a: '=HYPERLINK("x")', b: "x,y" }])).toBe('a,b\r\n"\'=HYPERLINK(""x"")","x,y"\r\n');
  });

  it("is read-only and answers only to its own loopback Host", async () => {
    expect((await fetch(`${base}/api/v1/runs`, { method: "POST", body: "{}" })).status).toBe(405);
    expect((await fetch(`${base}/api/v1/runs/${fx.evalA}`, { method: "DELETE" })).status).toBe(405);
    const { request } = await import("undici");
    const rebound = await request(`${base}/api/v1/runs`, { headers: { host: "evil.example:80" } });
    expect(rebound.statusCode).toBe(421);
    await rebound.body.text();
    const ok = await fetch(`${base}/api/v1/runs`);
    expect(ok.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
  });
});
