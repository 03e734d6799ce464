/** The UI's API on PostgreSQL: migrations 0008 and 0009 apply there, and the same queries answer what SQLite answers. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, type Report } from "../../src/report/index.js";
import { openStore } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { buildRunReport } from "../../src/ui/server/run-report.js";
import { packagePath } from "../../src/util/package-root.js";
import { runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { type Postgres, startPostgres } from "../support/postgres.js";
import { tempDir } from "../support/project.js";

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
      // Same stubs, same seeds: the same answers; only run ids, times and latencies differ.
      const norm = (x: unknown, id: string) =>
        JSON.parse(
          JSON.stringify(x)
            .replaceAll(id, "RUN")
            .replace(/"(createdAt|finishedAt|configPath|latencyMs|ttftMs|latencyP50Ms|latencyP95Ms|ttftP50Ms)":("[^"]*"|[\d.]+|null)/g, '"$1":0'),
        );
      const pgA = norm(await answers(onPg, id1), id1) as Record<string, { rows?: { caseIndex: number; passed: boolean }[]; total?: number; search?: unknown }>;
      const sqA = norm(await answers(onSqlite, id2), id2) as typeof pgA;
      // How a search was answered differs by design (SQLite starts building its full-text index; PostgreSQL scans), not what it answers.
      const q = `/runs/RUN/cases?q=${encodeURIComponent("MESSAGE NUMBER 1")}&limit=500`;
      expect(pgA[q]?.search).toEqual({ index: "none", reason: "PostgreSQL: search scans" });
      expect(sqA[q]?.search).toMatchObject({ index: "building" });
      for (const x of [pgA[q], sqA[q]]) delete x?.search;
      for (const k of Object.keys(sqA))
        if (!k.includes("sort=") && !k.startsWith("/runs/RUN/cases?format") && k !== `/runs/RUN`) expect(pgA[k], k).toEqual(sqA[k]);
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
