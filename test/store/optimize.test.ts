/**
 * A SQLite store refreshes its planner statistics when it closes (PRAGMA optimize in open.ts): a store
 * that eval filled and nothing analysed made the UI's case pages pick bad plans at a million results.
 * Checked on a real file: after rows are written and the store closed, sqlite_stat1 describes the
 * table's index; a store closed with nothing new keeps working and closes without error.
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { createRun } from "../../src/store/runs.js";
import { writeRows } from "../../src/store/write.js";
import { tempDir } from "../support/project.js";

const statsOf = (file: string, table: string) => {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const has = db.prepare("select 1 from sqlite_master where name = 'sqlite_stat1'").get();
    return has ? (db.prepare("select idx, stat from sqlite_stat1 where tbl = ?").all(table) as { idx: string; stat: string }[]) : [];
  } finally {
    db.close();
  }
};

describe("SQLite store statistics", () => {
  it("are written when the store closes after rows were added, and closing again changes nothing", async () => {
    const file = join(tempDir(), "wb.db");
    const store = await openStore(file);
    await createRun(store.db, { id: "r1", kind: "bench", configPath: "/x.yaml", plan: {} });
    const rows = Array.from({ length: 5000 }, (_, i) => ({ run_id: "r1", concurrency: i + 1, metrics_json: "{}" }));
    await writeRows(store.db, [{ table: "bench_levels", rows, conflict: "fail" }]);
    expect(statsOf(file, "bench_levels")).toEqual([]); // nothing analysed while open
    await store.close();
    const stats = statsOf(file, "bench_levels");
    expect(stats.length).toBeGreaterThan(0);
    expect(stats[0]?.stat).toMatch(/^5000 /);

    const again = await openStore(file);
    await again.close();
    expect(statsOf(file, "bench_levels")).toEqual(stats);
  });
});
