/**
 * The PostgreSQL dialect, end to end through the CLI: the same commands on a SQLite file and on a
 * PostgreSQL database give the same answers (eval and runs, the response cache, resume after a
 * kill, the gateway's keys and audit trail, the scoreboard). Needs PostgreSQL's server binaries.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { startGateway } from "../../src/gateway/server.js";
import { openStore } from "../../src/store/open.js";
import { killWhen, runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { type Postgres, queryPostgres, startPostgres } from "../support/postgres.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startStub } from "../support/stub-server.js";

const TRENDING = join(import.meta.dirname, "../../../shared/data/hf-trending-2026.jsonl");

let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function project(n: number, latencyMs = 0) {
  const p = await twoModelProject(n, latencyMs);
  closers.push(
    () => p.a.close(),
    () => p.b.close(),
  );
  return p;
}

/** Drop what differs between two stores by nature: ids, times, latencies. */
const stable = (summary: { suites: { name: string; models: Record<string, unknown>[] }[] }) =>
  summary.suites.map((s) => ({ name: s.name, models: s.models.map(({ id, n, errors, score, cost }) => ({ id, n, errors, score, cost })) }));

describe("PostgreSQL store (WEIGHTBRIDGE_DATABASE_URL=postgres://…)", () => {
  it("eval, runs and runs show give what SQLite gives; the response cache answers a second eval", async () => {
    const { config, a, b } = await project(20);
    const onPg = { WEIGHTBRIDGE_DATABASE_URL: await pg.database() };
    const onSqlite = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "wb.db") };
    const pgRun = await runCli(["eval", "-c", config, "--json"], { env: onPg });
    expect(pgRun.code, pgRun.stderr).toBe(0);
    const asked = a.stats.chat + b.stats.chat;
    expect(asked).toBe(40);
    const sqliteRun = await runCli(["eval", "-c", config, "--json", "--no-cache"], { env: onSqlite });
    const pgSummary = JSON.parse(pgRun.stdout);
    expect(stable(pgSummary)).toEqual(stable(JSON.parse(sqliteRun.stdout)));

    const cached = await runCli(["eval", "-c", config, "--json"], { env: onPg });
    expect(cached.code, cached.stderr).toBe(0);
    expect(a.stats.chat + b.stats.chat).toBe(asked + 40); // the SQLite run asked; the second PostgreSQL run did not
    expect(stable(JSON.parse(cached.stdout))).toEqual(stable(pgSummary));

    const runs = JSON.parse((await runCli(["runs", "--json"], { env: onPg, cwd: tempDir() })).stdout) as { runId: string; status: string }[];
    expect(runs).toHaveLength(2);
    expect(runs.every((r) => r.status === "completed")).toBe(true);
    const shown = JSON.parse((await runCli(["runs", "show", pgSummary.runId, "--json"], { env: onPg, cwd: tempDir() })).stdout);
    expect(stable(shown)).toEqual(stable(pgSummary));
    // Read back with PostgreSQL's own client: the rows are really there.
    const [counts] = await queryPostgres(
      onPg.WEIGHTBRIDGE_DATABASE_URL,
      "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM results) AS results",
    );
    expect(counts).toEqual({ runs: "2", results: "80" });
  }, 60_000);

  it("after SIGKILL, --resume finishes the run and asks only what had not finished", async () => {
    const { config, a, b } = await project(100, 30);
    const env = { WEIGHTBRIDGE_DATABASE_URL: await pg.database() };
    const killed = await runCli(["eval", "-c", config, "--no-cache", "--json"], { env, onSpawn: killWhen(() => a.stats.chat + b.stats.chat >= 60, "SIGKILL") });
    expect(killed.signal).toBe("SIGKILL");
    const asked = a.stats.chat + b.stats.chat;
    const [run] = JSON.parse((await runCli(["runs", "--json"], { env, cwd: tempDir() })).stdout) as { runId: string; status: string }[];
    expect(run?.status).toBe("interrupted");
    const finished = Number((await queryPostgres(env.WEIGHTBRIDGE_DATABASE_URL, "SELECT count(*) AS n FROM results"))[0]?.n);
    expect(finished).toBeGreaterThan(0);
    expect(finished).toBeLessThan(200);
    const resumed = await runCli(["eval", "-c", config, "--no-cache", "--resume", run?.runId ?? "", "--json"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { status: string; suites: { models: { requests: number }[] }[] };
    expect(summary.status).toBe("completed");
    expect(summary.suites[0]?.models.map((m) => m.requests)).toEqual([100, 100]);
    // The resume asked for everything that had not finished, and nothing that had.
    expect(a.stats.chat + b.stats.chat - asked).toBe(200 - finished);
  }, 60_000);

  it("gateway: keys, audit rows for served and blocked requests, and metering totals", async () => {
    const up = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    closers.push(() => up.close());
    const url = await pg.database();
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `listen: 127.0.0.1:0
store: ${url}
deployments:
  - id: internal
    baseUrl: ${up.baseUrl}
    model: m
    accepts: [EMAIL]
    price: { input: 1, output: 2 }
routes:
  - model: support
    targets: [internal]
    onSensitive: reroute
`,
    });
    const configFile = join(dir, "gateway.yaml");
    const created = await runCli(["keys", "create", "-c", configFile, "--name", "bot", "--rpm", "100", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const store = await openStore(url);
    const gw = await startGateway({ config: loadGatewayConfig(configFile), store });
    closers.push(
      () => store.close(),
      () => gw.close(),
    );
    const chat = (content: string, auth = key) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${auth}` },
        body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
      });
    expect((await chat("write to jane@example.com")).status).toBe(200);
    expect((await chat("my SSN is 078-05-1120")).status).toBe(403); // no deployment accepts US_SSN
    expect((await chat("hello", "wb_wrong")).status).toBe(401);

    const audit = JSON.parse((await runCli(["audit", "-c", configFile, "--json"])).stdout) as Record<string, unknown>[];
    expect(audit.map((r) => [r.key_name, r.action, r.status])).toEqual([
      ["bot", "rerouted", 200],
      ["bot", "blocked", 403],
      [null, "unauthorised", 401],
    ]);
    expect(audit[0]).toMatchObject({ deployment: "internal", classes: { EMAIL: 1 }, input_tokens: expect.any(Number), cost_pusd: expect.any(Number) });
    expect(audit[1]).toMatchObject({ classes: { US_SSN: 1 } });
    const byKey = JSON.parse((await runCli(["audit", "-c", configFile, "--by", "key", "--json"])).stdout) as Record<string, unknown>[];
    expect(byKey).toEqual(expect.arrayContaining([expect.objectContaining({ group: "bot", requests: 2, blocked: 1 })]));
    expect((await runCli(["keys", "list", "-c", configFile, "--json"])).stdout).toContain('"bot"');
  }, 60_000);

  it("scoreboard: ingest and show answer exactly as on SQLite", async () => {
    const onPg = { WEIGHTBRIDGE_DATABASE_URL: await pg.database() };
    const onSqlite = { WEIGHTBRIDGE_DATABASE_URL: join(tempDir(), "sb.db") };
    for (const env of [onPg, onSqlite]) expect((await runCli(["scoreboard", "ingest", "--from", TRENDING, "--json"], { env })).code).toBe(0);
    const again = JSON.parse((await runCli(["scoreboard", "ingest", "--from", TRENDING, "--json"], { env: onPg })).stdout) as { snapshots: number };
    expect(again.snapshots).toBe(0);
    for (const args of [
      ["--by", "country", "--since", "2026-03-01"],
      ["--by", "uploader", "--metric", "models"],
    ]) {
      const show = (env: Record<string, string>) => runCli(["scoreboard", "show", ...args, "--json"], { env });
      const [p, s] = await Promise.all([show(onPg), show(onSqlite)]);
      expect(p.code, p.stderr).toBe(0);
      expect(JSON.parse(p.stdout)).toEqual(JSON.parse(s.stdout));
    }
  }, 120_000);
});
