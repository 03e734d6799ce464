/** The UI's API on PostgreSQL: migrations 0008 and 0009 apply there, and the same queries answer what SQLite answers. */

import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultRecord } from "../../src/records/index.js";
import { buildReport, type Report } from "../../src/report/index.js";
import { createRun, finishRun, openStore, saveResults } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { buildRunReport } from "../../src/ui/server/run-report.js";
import { packagePath } from "../../src/util/package-root.js";
import { runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { type Postgres, queryPostgres, startPostgres } from "../support/postgres.js";
import { tempDir } from "../support/project.js";
import { resultRecord } from "../support/result-record.js";

let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

async function answers(url: string, runId: string) {
  const store = await openStore(url);
  const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
  const get = async (p: string) => {
    const r = await fetch(base + p);
    expect(r.status, p).toBe(200);
    return r.headers.get("content-type")?.includes("json") ? r.json() : r.text();
  };
  try {
    const paths = [
      "/runs",
      `/runs/${runId}?wait=1`,
      `/runs/${runId}/cases?limit=500`,
      `/runs/${runId}/cases?filter=changed&model=beta`,
      `/runs/${runId}/cases?filter=regressions&limit=3&offset=4`,
      `/runs/${runId}/cases?sort=score&order=desc&limit=5&offset=70`,
      `/runs/${runId}/cases?q=${encodeURIComponent("MESSAGE NUMBER 1")}&limit=500`,
      `/runs/${runId}/cases/intent/3`,
      `/runs/${runId}/cases?format=csv&model=alpha`,
    ];
    const out: Record<string, unknown> = {};
    for (const p of paths) out[p] = await get(p);
    return out;
  } finally {
    await app.close();
    await store.close();
  }
}

describe("the UI's API on PostgreSQL", () => {
  it("answers exactly what it answers on SQLite for the same run", async () => {
    const { config, a, b } = await twoModelProject(40);
    try {
      const onPg = await pg.database();
      const onSqlite = `${tempDir()}/ui.sqlite`;
      const r1 = await runCli(["eval", "-c", config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: onPg } });
      const r2 = await runCli(["eval", "-c", config, "--json", "--no-cache"], { env: { WEIGHTBRIDGE_DATABASE_URL: onSqlite } });
      const id1 = (JSON.parse(r1.stdout) as { runId: string }).runId;
      const id2 = (JSON.parse(r2.stdout) as { runId: string }).runId;
      // eval kept the run's Report, listing and case totals on PostgreSQL too.
      expect(r1.stderr).not.toMatch(/was not kept/);
      for (const table of ["run_reports", "run_summaries", "case_totals"])
        expect((await queryPostgres(onPg, `select count(*)::int as n from ${table} where run_id = '${id1}'`))[0]?.n, table).toBeGreaterThan(0);
      // Same stubs, same seeds: the same answers; only run ids, times and latencies differ.
      const norm = (x: unknown, id: string) =>
        JSON.parse(
          JSON.stringify(x)
            .replaceAll(id, "RUN")
            .replace(/"(createdAt|finishedAt|configPath|latencyMs|ttftMs|latencyP50Ms|latencyP95Ms|ttftP50Ms)":("[^"]*"|[\d.]+|null)/g, '"$1":0'),
        );
      const pgA = norm(await answers(onPg, id1), id1) as Record<string, { rows?: { caseIndex: number; passed: boolean }[]; total?: number; search?: unknown }>;
      const sqA = norm(await answers(onSqlite, id2), id2) as typeof pgA;
      // How a search was answered differs by design (SQLite starts building its full-text index; PostgreSQL has its trigram indexes), not what it answers.
      const q = `/runs/RUN/cases?q=${encodeURIComponent("MESSAGE NUMBER 1")}&limit=500`;
      expect(pgA[q]?.search).toEqual({ index: "ready", via: "pg_trgm" });
      expect(sqA[q]?.search).toMatchObject({ index: "building" });
      for (const x of [pgA[q], sqA[q]]) delete x?.search;
      for (const k of Object.keys(sqA))
        if (!k.includes("sort=") && !k.startsWith("/runs/RUN/cases?format") && k !== `/runs/RUN?wait=1`) expect(pgA[k], k).toEqual(sqA[k]);
      expect(pgA["/runs/RUN/cases?limit=500"]?.total).toBe(80);
      expect((pgA[`/runs/RUN/cases?q=${encodeURIComponent("MESSAGE NUMBER 1")}&limit=500`]?.rows ?? []).length).toBeGreaterThan(0);
      // The run page's Report, one model at a time, equals buildReport's on PostgreSQL too.
      const store = await openStore(onPg);
      try {
        const same = (r: Report) => JSON.parse(JSON.stringify({ ...r, record: { ...r.record, hashedAt: "" } }));
        expect(same(await buildRunReport(store, id1))).toEqual(same(await buildReport(store, id1)));
      } finally {
        await store.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});

describe("case search on PostgreSQL", () => {
  it("reads the pg_trgm indexes of migration 0012 instead of every row, and answers exactly", async () => {
    const url = await pg.database();
    let store = await openStore(url);
    const rows: ResultRecord[] = [];
    for (let i = 0; i < 20_000; i++)
      rows.push(
        resultRecord({ runId: "t1", caseIndex: i, modelId: "a", messages: [{ role: "user", content: `question ${i}` }], output: `Answer Number ${i}` }),
      );
    const indexScans = async () => {
      const r = await sql<{ n: string }>`select coalesce(sum(idx_scan), 0) as n from pg_stat_user_indexes where indexrelname like 'results_trgm_%'`.execute(
        store.db,
      );
      return Number(r.rows[0]?.n ?? 0);
    };
    try {
      const ix = await sql<{ indexname: string }>`select indexname from pg_indexes where indexname like 'results_trgm_%' order by 1`.execute(store.db);
      expect(ix.rows.map((r) => r.indexname)).toEqual(["results_trgm_case_id", "results_trgm_messages_json", "results_trgm_output"]);
      await createRun(store.db, {
        id: "t1",
        kind: "eval",
        configPath: "/x.yaml",
        plan: { suites: [{ name: "s", cases: [] }], models: [{ config: { id: "a" } }], repeat: 1 },
      });
      await saveResults(store.db, rows);
      // Five more copies, written in SQL (fast): at 120,000 rows the planner prefers the index to a scan.
      await sql`insert into results (run_id, suite, case_index, model_id, repeat, case_id, messages_json, output, scores_json, score, passed,
        input_tokens, output_tokens, cost_pusd, latency_ms, ttft_ms, error, cached, attempts, created_at)
        select run_id, suite, case_index + 20000 * g, model_id, repeat, case_id || '-' || g, messages_json, output || ' copy ' || g, scores_json,
        score, passed, input_tokens, output_tokens, cost_pusd, latency_ms, ttft_ms, error, cached, attempts, created_at
        from results, generate_series(1, 5) as g where run_id = 't1'`.execute(store.db);
      await finishRun(store.db, "t1", "completed");
      await sql`analyze results`.execute(store.db);
      expect(await indexScans()).toBe(0);
    } finally {
      await store.close();
    }
    store = await openStore(url);
    const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/runs/t1/cases`;
      const page = (await (await fetch(`${base}?q=${encodeURIComponent("answer NUMBER 19999")}`)).json()) as { rows: { caseIndex: number }[]; search: unknown };
      expect(page.search).toEqual({ index: "ready", via: "pg_trgm" });
      expect(page.rows.map((r) => r.caseIndex)).toEqual([19999, 39999, 59999, 79999, 99999, 119999]);
      const none = (await (await fetch(`${base}?q=${encodeURIComponent("no such text")}`)).json()) as { rows: unknown[] };
      expect(none.rows).toEqual([]);
    } finally {
      await app.close();
      await store.close(); // the server's connections end: PostgreSQL writes out their statistics
    }
    store = await openStore(url);
    try {
      let scans = 0;
      for (let i = 0; i < 50 && scans === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        scans = await indexScans();
      }
      expect(scans, "the searches did not read the trigram indexes").toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 120_000);

  it("a role that may not install pg_trgm: the store still opens, search scans and says why", async () => {
    const url = await pg.database();
    const db = new URL(url).pathname.slice(1);
    // A role that owns nothing: it may create tables in the schema, not extensions in the database.
    await queryPostgres(url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lowly') THEN CREATE ROLE lowly LOGIN; END IF; END $$");
    await queryPostgres(
      url,
      `GRANT CONNECT ON DATABASE ${db} TO lowly; REVOKE CREATE ON DATABASE ${db} FROM PUBLIC; GRANT CREATE, USAGE ON SCHEMA public TO lowly`,
    );
    const lowly = url.replace("//wb@", "//lowly@");
    const store = await openStore(lowly);
    const app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    try {
      expect(await queryPostgres(url, "select extname from pg_extension where extname = 'pg_trgm'")).toEqual([]);
      await createRun(store.db, {
        id: "t2",
        kind: "eval",
        configPath: "/x.yaml",
        plan: { suites: [{ name: "s", cases: [] }], models: [{ config: { id: "a" } }], repeat: 1 },
      });
      await finishRun(store.db, "t2", "completed");
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/runs/t2/cases`;
      const page = (await (await fetch(`${base}?q=anything`)).json()) as { rows: unknown[]; search: { index: string; reason: string } };
      expect(page.rows).toEqual([]);
      expect(page.search).toEqual({ index: "none", reason: expect.stringMatching(/without the pg_trgm extension.*search scans/) });
    } finally {
      await app.close();
      await store.close();
    }
  }, 60_000);
});
