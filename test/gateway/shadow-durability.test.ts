/**
 * A gateway killed (SIGKILL) mid-traffic loses no stored pair of a request whose caller got an
 * answer: the primary half is committed with the audit row before the answer leaves, and a pair
 * whose shadow half never came is reported as missing, not lost. A real gateway process, real load.
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { buildShadowReport } from "../../src/gateway/shadow/index.js";
import { openStore } from "../../src/store/open.js";
import { freePort } from "../support/ports.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startStub } from "../support/stub-server.js";
import { spawnLoadGateway } from "../support/test-gateway.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const echo = { mode: "echo" as const, accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" };

describe("shadow durability", () => {
  it("after kill -9 under load, every answered request has its primary half, and unfinished pairs are reported missing", async () => {
    const primary = await startStub({ behaviour: echo, latencyMs: 2 });
    const shadow = await startStub({ behaviour: echo, latencyMs: 150 });
    closers.push(
      () => primary.close(),
      () => shadow.close(),
    );
    const dir = tempDir();
    const port = await freePort();
    writeFiles(dir, {
      "gateway.yaml": `listen: 127.0.0.1:${port}
deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", model: m }
  - { id: cand, baseUrl: "${shadow.baseUrl}", model: m, shadow: { concurrency: 2 } }
routes:
  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1, maxQueue: 100000 }
`,
    });
    const dbFile = join(dir, ".weightbridge", "weightbridge.db");
    const gw = await spawnLoadGateway(dir, dbFile, (p) =>
      closers.push(() => {
        if (p.exitCode === null) p.kill("SIGKILL");
      }),
    );
    const answered: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const id = `req-${w}-${sent++}`;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer wb_load" },
            body: JSON.stringify({ model: "support", messages: [{ role: "user", content: id }] }),
          });
          const text = await res.text();
          if (res.status === 200 && text.includes(id)) answered.push(id);
        } catch {}
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    const until = Date.now() + 20_000;
    // Killed under load once 120 callers have their answer and the slow shadow has completed at least
    // one pair (a fast gateway answers 120 before the 150-ms shadow finishes any: then there would be
    // no complete pair to find, which says nothing about durability).
    const shadowHalves = () => {
      const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("select count(*) as n from results where model_id = 'cand' and error is null").get() as { n: number }).n;
      } catch {
        return 0; // the table is being created or locked: ask again
      } finally {
        db.close();
      }
    };
    while ((answered.length < 120 || shadowHalves() === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    gw.kill("SIGKILL");
    await new Promise((r) => gw.once("exit", r));
    stop = true;
    await load;

    expect(answered.length).toBeGreaterThan(80);
    const store = await openStore(dbFile);
    closers.push(() => store.close());
    const rows = await store.db.selectFrom("results").select(["model_id", "messages_json", "case_index", "error"]).execute();
    const primaryIds = new Set(rows.filter((r) => r.model_id === "main").flatMap((r) => [...r.messages_json.matchAll(/req-\d+-\d+/g)].map((m) => m[0])));
    expect(answered.filter((id) => !primaryIds.has(id))).toEqual([]);
    const report = await buildShadowReport(store, loadGatewayConfig(join(dir, "gateway.yaml")), {
      route: "support",
      since: "",
      criteria: { minAgreement: 0.9 },
    });
    const c = report.candidates[0];
    expect(c?.missing).toBeGreaterThan(0); // the slow shadow could not keep up: those pairs are incomplete, and said so
    expect((c?.pairs ?? 0) + (c?.failed ?? 0) + (c?.missing ?? 0)).toBe(rows.filter((r) => r.model_id === "main").length);
    expect(c?.pairs).toBeGreaterThan(0);
  }, 40_000);
});
