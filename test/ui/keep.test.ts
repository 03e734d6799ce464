/**
 * A finished run leaves its page for `weightbridge ui` in the store (src/ui/server/keep.ts): `eval`
 * stores the Report it can build from the rows and summary it holds, equal to `report`'s; the
 * red-team command stores its listing. A fresh server's first visit then reads that row (proved by
 * marking the row: the mark comes back). Hostile cases first: an interrupted run keeps nothing (it
 * will change), and gets its Report when it completes on --resume; a store the command cannot write
 * warns and the eval still succeeds.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { summariseStoredRun } from "../../src/evaluate/index.js";
import { buildReport, type Report } from "../../src/report/index.js";
import { createRun, openStore, type StoreHandle } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { expectInterrupted, killWhen, runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import type { Simulator } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const comparable = (r: Report) => JSON.parse(JSON.stringify({ ...r, record: { ...r.record, hashedAt: "" } }));

async function kept(store: StoreHandle, runId: string): Promise<{ report?: Report; summary?: { counts: { results: number; errors: number } } }> {
  const rep = await store.db.selectFrom("run_reports").select("report_json").where("run_id", "=", runId).executeTakeFirst();
  const sum = await store.db.selectFrom("run_summaries").select("summary_json").where("run_id", "=", runId).executeTakeFirst();
  return { report: rep ? JSON.parse(rep.report_json) : undefined, summary: sum ? JSON.parse(sum.summary_json) : undefined };
}

/** The first answer of a fresh server for the run page, and its runs list entry. */
async function firstVisit(db: string, runId: string): Promise<{ body: { report?: Report; reportBuilding?: unknown }; listed: unknown }> {
  const store = await openStore(db);
  const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui"), reportGraceMs: 0 });
  try {
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
    const body = (await (await fetch(`${base}/runs/${runId}`)).json()) as { report?: Report };
    const list = (await (await fetch(`${base}/runs`)).json()) as { runs: { id: string }[] };
    return { body, listed: list.runs.find((r) => r.id === runId) };
  } finally {
    await app.close();
    await store.close();
  }
}

describe("eval keeps the run's page for the UI", { timeout: 120_000 }, () => {
  it("stores the Report report would build, and the runs list entry; a fresh server's first visit reads them", async () => {
    const p = await twoModelProject(50);
    open.push(p.a, p.b);
    const db = join(p.dir, "keep.sqlite");
    const r = await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: db } });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const store = await openStore(db);
    try {
      const k = await kept(store, runId);
      expect(k.report, "no run_reports row after eval").toBeDefined();
      expect(comparable(k.report as Report)).toEqual(comparable(await buildReport(store, runId)));
      expect(k.report?.changedCases.length).toBeGreaterThan(0);
      expect(k.report?.changedCases[0]?.input).toMatch(/\S/); // texts of the changed cases are there
      expect(k.summary?.counts).toMatchObject({ results: 100, errors: 0 });
      // Mark the rows: a server that rebuilt instead of reading them would not show the marks.
      store.sqlite?.prepare("update run_reports set report_json = json_set(report_json, '$.runId', 'from-the-row') where run_id = ?").run(runId);
      store.sqlite?.prepare("update run_summaries set summary_json = json_set(summary_json, '$.counts.errors', 7) where run_id = ?").run(runId);
    } finally {
      await store.close();
    }
    const v = await firstVisit(db, runId);
    expect(v.body.reportBuilding).toBeUndefined();
    expect(v.body.report?.runId).toBe("from-the-row");
    expect(v.listed).toMatchObject({ id: runId, results: 100, errors: 7 });
  });

  it("an eval without a baseline keeps the summary its page shows, equal to runs show's; a fresh server reads it", async () => {
    const p = await twoModelProject(30);
    open.push(p.a, p.b);
    writeFileSync(p.config, readFileSync(p.config, "utf8").replace(/^baseline: alpha\n/m, ""));
    const db = join(p.dir, "keep-nobase.sqlite");
    const r = await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: db } });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const store = await openStore(db);
    try {
      const row = await store.db.selectFrom("run_reports").select("report_json").where("run_id", "=", runId).executeTakeFirst();
      expect(row, "no kept summary after eval").toBeDefined();
      const { summary } = await summariseStoredRun(store, runId);
      const { status: _status, ...computed } = summary;
      expect(JSON.parse(row?.report_json ?? "{}")).toEqual(JSON.parse(JSON.stringify(computed)));
      store.sqlite?.prepare("update run_reports set report_json = json_set(report_json, '$.runId', 'from-the-row') where run_id = ?").run(runId);
    } finally {
      await store.close();
    }
    const v = (await firstVisit(db, runId)) as unknown as { body: { summary?: { runId: string } } };
    expect(v.body.summary?.runId).toBe("from-the-row");
  });

  it("keeps the case table's totals of the filters the run page links to, equal to what the server counts", async () => {
    const p = await twoModelProject(60);
    open.push(p.a, p.b);
    const db = join(p.dir, "totals.sqlite");
    const r = await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: db } });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    let store = await openStore(db);
    const kept = await store.db.selectFrom("case_totals").select(["query_key", "total"]).where("run_id", "=", runId).execute();
    // The server reads the kept totals: a marked one comes back as it is.
    const reg = kept.find((k) => JSON.parse(k.query_key)[3] === "beta" && JSON.parse(k.query_key)[5] === "regressions");
    await store.db
      .updateTable("case_totals")
      .set({ total: 777 })
      .where("run_id", "=", runId)
      .where("query_key", "=", reg?.query_key ?? "")
      .execute();
    const marked = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    const url = `http://127.0.0.1:${(marked.server.address() as { port: number }).port}/api/v1/runs/${runId}/cases?limit=1&filter=regressions&model=beta`;
    expect(((await (await fetch(url)).json()) as { total: number }).total).toBe(777);
    await marked.close();
    // Removed, so that the server counts each one itself.
    await store.db.deleteFrom("case_totals").where("run_id", "=", runId).execute();
    await store.close();
    // The whole run and each model under all/failed/passed/errors; the run and beta under changed/regressions/improvements.
    expect(kept).toHaveLength(3 * 4 + 2 * 3);
    expect(kept.some((k) => JSON.parse(k.query_key)[5] === "regressions" && Number(k.total) > 0)).toBe(true);
    store = await openStore(db);
    const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/runs/${runId}/cases?limit=1`;
      for (const k of kept) {
        const [, , , model, , filter] = JSON.parse(k.query_key) as (string | null)[];
        const page = (await (await fetch(`${base}&filter=${filter}${model ? `&model=${model}` : ""}`)).json()) as { total: number };
        expect(page.total, k.query_key).toBe(Number(k.total));
      }
    } finally {
      await app.close();
      await store.close();
    }
  });

  it("an interrupted run keeps nothing; completed on --resume it gets the whole run's Report", async () => {
    const p = await twoModelProject(120, 30);
    open.push(p.a, p.b);
    const db = join(p.dir, ".weightbridge", "weightbridge.db"); // the config's store (expectInterrupted reads it)
    const env = {};
    const r = await runCli(["eval", "-c", p.config, "--no-cache"], { env, onSpawn: killWhen(() => p.a.stats.chat >= 15, "SIGINT") });
    const runId = await expectInterrupted(r, p.config);
    let store = await openStore(db);
    try {
      expect(await kept(store, runId)).toEqual({ report: undefined, summary: undefined });
    } finally {
      await store.close();
    }
    const resumed = await runCli(["eval", "-c", p.config, "--resume", runId, "--json"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    store = await openStore(db);
    try {
      const k = await kept(store, runId);
      expect(k.report?.status).toBe("completed");
      expect(k.report?.completion).toEqual({ done: 240, total: 240 });
      // Rows of this process and of the interrupted one (read back without texts): still report's Report.
      expect(comparable(k.report as Report)).toEqual(comparable(await buildReport(store, runId)));
    } finally {
      await store.close();
    }
  });

  it("a store the command cannot write keeps nothing, warns, and the eval still succeeds", async () => {
    const p = await twoModelProject(10);
    open.push(p.a, p.b);
    const db = join(p.dir, "ro.sqlite");
    const env = { WEIGHTBRIDGE_DATABASE_URL: db };
    expect((await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env })).code).toBe(0);
    // Drop the tables' writability the only way SQLite allows from outside: a trigger that refuses.
    const store = await openStore(db);
    store.sqlite?.exec("create trigger no_reports before insert on run_reports begin select raise(abort, 'read-only here'); end");
    await store.close();
    const r = await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the run's page for `weightbridge ui` was not kept \(.*read-only here\)/);
    expect((JSON.parse(r.stdout) as { runId: string }).runId).toMatch(/\S/);
  });
});

describe("a run without a kept Report (older stores, other tools)", { timeout: 120_000 }, () => {
  /** A finished eval run whose kept Report is removed, as a store written before eval kept them. */
  async function legacyRun(n: number): Promise<{ db: string; runId: string }> {
    const p = await twoModelProject(n);
    open.push(p.a, p.b);
    const db = join(p.dir, "legacy.sqlite");
    const r = await runCli(["eval", "-c", p.config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: db } });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const store = await openStore(db);
    store.sqlite?.prepare("delete from run_reports where run_id = ?").run(runId);
    await store.close();
    return { db, runId };
  }

  async function serve(db: string, childAbove: number) {
    const store = await openStore(db);
    const app = await createUiServer({
      store,
      host: "127.0.0.1",
      port: 0,
      appDir: packagePath("dist", "ui"),
      reportGraceMs: 0,
      reportInChildAbove: childAbove,
    });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
    const get = async (path: string) => {
      const r = await fetch(base + path);
      return { status: r.status, body: (await r.json()) as { report?: Report | null; reportBuilding?: { done: number; total: number }; error?: string } };
    };
    const close = async () => {
      await app.close();
      await store.close();
    };
    return { store, get, close };
  }

  it("the first visit answers at once with the build's progress, then the Report (built in a child), then keeps it", async () => {
    const { db, runId } = await legacyRun(40);
    const s = await serve(db, 0);
    try {
      const first = await s.get(`/runs/${runId}`);
      expect(first.status).toBe(200);
      expect(first.body.report).toBeNull();
      expect(first.body.reportBuilding).toMatchObject({ done: expect.any(Number), total: expect.any(Number) });
      let last = first;
      for (let i = 0; i < 300 && !last.body.report; i++) {
        await new Promise((r) => setTimeout(r, 100));
        last = await s.get(`/runs/${runId}`);
        expect(last.status).toBe(200);
        if (last.body.reportBuilding) expect(last.body.reportBuilding.done).toBeLessThanOrEqual(last.body.reportBuilding.total);
      }
      expect(comparable(last.body.report as Report)).toEqual(comparable(await buildReport(s.store, runId)));
      expect((await s.store.db.selectFrom("run_reports").select("run_id").where("run_id", "=", runId).execute()).length).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("a build that fails answers its error on every visit, not 'building' forever", async () => {
    const { db, runId } = await legacyRun(10);
    const store = await openStore(db);
    // A label grade that is not JSON: reading the run's grades fails.
    store.sqlite?.prepare(`update results set scores_json = '[{"type":"label",' where run_id = ? and case_index = 3`).run(runId);
    await store.close();
    const s = await serve(db, 1_000_000);
    try {
      let r = await s.get(`/runs/${runId}`);
      for (let i = 0; i < 100 && r.status === 200; i++) {
        expect(r.body.reportBuilding).toBeDefined();
        await new Promise((res) => setTimeout(res, 50));
        r = await s.get(`/runs/${runId}`);
      }
      expect(r.status).toBe(500);
      expect((await s.get(`/runs/${runId}`)).status).toBe(500);
      expect((await s.get(`/runs/${runId}?wait=1`)).status).toBe(500);
    } finally {
      await s.close();
    }
  });

  it("a run in flight: one build at a time, and the Report built before is shown at once while a newer one builds", async () => {
    const { db, runId } = await legacyRun(40);
    const store = await openStore(db);
    const sq = store.sqlite;
    if (!sq) throw new Error("a SQLite store");
    // A run of this process (so: in flight), with the finished run's plan and its first cases' results.
    const plan = (await store.db.selectFrom("runs").select("plan_json").where("id", "=", runId).executeTakeFirstOrThrow()).plan_json;
    await createRun(store.db, { id: "live", kind: "eval", configPath: "/x.yaml", plan: JSON.parse(plan) });
    const cols = (sq.prepare("select name from pragma_table_info('results')").all() as { name: string }[]).map((c) => c.name).filter((c) => c !== "run_id");
    const copy = (from: number, to: number) =>
      sq
        .prepare(
          `insert into results (run_id, ${cols.join(", ")}) select 'live', ${cols.join(", ")} from results where run_id = ? and case_index >= ? and case_index < ?`,
        )
        .run(runId, from, to);
    copy(0, 20);
    const s = await serve(db, 0);
    try {
      const reportOf = async () => {
        for (let i = 0; i < 300; i++) {
          const r = await s.get("/runs/live");
          expect(r.status).toBe(200);
          if (r.body.report) return r.body.report;
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error("no Report");
      };
      expect((await s.get("/runs/live")).body.reportBuilding).toBeDefined();
      expect((await reportOf()).completion.done).toBe(40);
      // Nothing changed: the same Report at once, no new build.
      for (let i = 0; i < 3; i++) expect((await s.get("/runs/live")).body.report?.completion.done).toBe(40);
      // Ten more cases: the previous Report at once while the newer one builds, then the newer one.
      copy(20, 30);
      expect((await s.get("/runs/live")).body.report?.completion.done).toBe(40);
      let done = 40;
      for (let i = 0; i < 300 && done === 40; i++) {
        await new Promise((res) => setTimeout(res, 100));
        done = (await reportOf()).completion.done;
      }
      expect(done).toBe(60);
    } finally {
      await s.close();
      await store.close();
    }
  });
});
