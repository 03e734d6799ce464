/**
 * The store's one write path (src/store/write.ts), the same assertions on SQLite and PostgreSQL: a
 * list of writes commits all or nothing; `update`, `ignore` and `fail` do what they say when a key is
 * taken, and `ignore` never hides a NOT NULL violation (SQLite's INSERT OR IGNORE would drop the row
 * silently); a Kysely instance openStore did not return has no write path. Also the audit writer's
 * worker thread: a row the database refuses rejects that row's promise, and the rows after it commit.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRow } from "../../src/records/index.js";
import { auditWriter } from "../../src/store/audit-writer.js";
import { listAudit } from "../../src/store/gateway.js";
import { openStore, type StoreHandle } from "../../src/store/open.js";
import { createRun } from "../../src/store/runs.js";
import type { BenchLevelsTable } from "../../src/store/schema.js";
import { writeRows } from "../../src/store/write.js";
import { type Postgres, startPostgres } from "../support/postgres.js";
import { tempDir } from "../support/project.js";

let pg: Postgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

const level = (concurrency: number, metrics: string): BenchLevelsTable => ({ run_id: "r1", concurrency, metrics_json: metrics });

async function levels(store: StoreHandle): Promise<[number, string][]> {
  const rows = await store.db.selectFrom("bench_levels").select(["concurrency", "metrics_json"]).orderBy("concurrency").execute();
  return rows.map((r) => [r.concurrency, r.metrics_json]);
}

describe.each([
  ["SQLite", async () => join(tempDir(), "wb.db")],
  ["PostgreSQL", async () => (pg as Postgres).database()],
])("writeRows on %s", (_name, url) => {
  let store: StoreHandle;
  beforeAll(async () => {
    store = await openStore(await url());
    await createRun(store.db, { id: "r1", kind: "bench", configPath: "/x.yaml", plan: {} });
  }, 30_000);
  afterAll(() => store?.close());

  it("commits a list of writes all or nothing", async () => {
    const bad = { ...level(2, "{}"), metrics_json: null as unknown as string };
    await expect(
      writeRows(store.db, [
        { table: "cache", rows: [{ key: "k", response_json: "{}", created_at: "2026-01-01" }], conflict: "update" },
        { table: "bench_levels", rows: [level(1, "{}"), bad], conflict: "update" },
      ]),
    ).rejects.toThrow(/null|NOT NULL/i);
    expect(await levels(store)).toEqual([]);
    expect(await store.db.selectFrom("cache").selectAll().execute()).toEqual([]);
  });

  it("update replaces the other columns, ignore keeps the stored row, fail refuses", async () => {
    await writeRows(store.db, [{ table: "bench_levels", rows: [level(4, '{"v":1}'), level(8, '{"v":1}')], conflict: "update" }]);
    await writeRows(store.db, [{ table: "bench_levels", rows: [level(4, '{"v":2}')], conflict: "update" }]);
    await writeRows(store.db, [{ table: "bench_levels", rows: [level(8, '{"v":3}'), level(16, '{"v":3}')], conflict: "ignore" }]);
    await expect(writeRows(store.db, [{ table: "bench_levels", rows: [level(16, '{"v":4}')], conflict: "fail" }])).rejects.toThrow(/unique|duplicate/i);
    expect(await levels(store)).toEqual([
      [4, '{"v":2}'],
      [8, '{"v":1}'],
      [16, '{"v":3}'],
    ]);
  });

  it("ignore skips taken keys only: a NOT NULL violation still fails", async () => {
    const bad = { ...level(32, "{}"), metrics_json: null as unknown as string };
    await expect(writeRows(store.db, [{ table: "bench_levels", rows: [bad], conflict: "ignore" }])).rejects.toThrow(/null|NOT NULL/i);
  });

  it("a foreign key to a missing run fails in every mode", async () => {
    for (const conflict of ["update", "ignore", "fail"] as const)
      await expect(writeRows(store.db, [{ table: "bench_levels", rows: [{ ...level(1, "{}"), run_id: "nope" }], conflict }])).rejects.toThrow(/foreign/i);
  });

  it("has no write path for a Kysely instance it did not open (a transaction)", async () => {
    await store.db.transaction().execute(async (tx) => {
      expect(() => writeRows(tx, [])).toThrow(/Kysely instance openStore returned/);
    });
  });
});

const audit = (i: number, action: string | null): AuditRow => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
  key_name: `k${i}`,
  route: null,
  deployment: null,
  classes: {},
  action: action as string,
  status: 200,
  input_tokens: null,
  output_tokens: null,
  cost_pusd: null,
  latency_ms: null,
  body: null,
});

describe("audit writer on a worker thread", () => {
  it("rejects the batch the database refuses and commits the rows after it", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    const w = auditWriter(store);
    expect(w.thread).toBeDefined();
    const first = [w.write(audit(1, "served")), w.write(audit(2, null))]; // one turn, one commit: both fail
    const results = await Promise.allSettled(first);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/audit write failed: .*NOT NULL/);
    await w.write(audit(3, "served"));
    expect(w.thread).toBeDefined(); // the worker is still the one committing
    expect((await listAudit(store.db)).map((r) => r.key_name)).toEqual(["k3"]);
    await w.close();
    await store.close();
  });
});
