/**
 * `weightbridge ui` over a store another tool filled (rows written, never analysed): the server
 * refreshes SQLite's planner statistics when it starts, so its case queries do not run on plans
 * chosen without them (2.5 s against 4–10 ms for a cases page at 1,000,000 results).
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createRun, openStore } from "../../src/store/index.js";
import { writeRows } from "../../src/store/write.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { tempDir } from "../support/project.js";

const stat1 = (db: BetterSqlite3.Database) =>
  db.prepare("select 1 from sqlite_master where name = 'sqlite_stat1'").get() ? db.prepare("select tbl from sqlite_stat1").all() : [];

describe("ui server start", () => {
  it("analyses a store that was filled and never analysed", async () => {
    const file = join(tempDir(), "wb.db");
    const store = await openStore(file);
    await createRun(store.db, { id: "r1", kind: "bench", configPath: "/x.yaml", plan: {} });
    const rows = Array.from({ length: 3000 }, (_, i) => ({ run_id: "r1", concurrency: i + 1, metrics_json: "{}" }));
    await writeRows(store.db, [{ table: "bench_levels", rows, conflict: "fail" }]);
    store.sqlite?.close(); // as another tool leaves it: no statistics
    await store.db.destroy().catch(() => {});
    const raw = new BetterSqlite3(file, { readonly: true });
    expect(stat1(raw)).toEqual([]);
    raw.close();

    const again = await openStore(file);
    const app = await createUiServer({ store: again, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    try {
      const check = new BetterSqlite3(file, { readonly: true });
      expect(stat1(check)).toContainEqual({ tbl: "bench_levels" });
      check.close();
    } finally {
      await app.close();
      await again.close();
    }
  });
});
