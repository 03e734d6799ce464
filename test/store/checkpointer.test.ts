import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startCheckpointer } from "../../src/store/checkpointer.js";
import { openStore } from "../../src/store/open.js";
import { tempDir } from "../support/project.js";

describe("background WAL checkpoints", () => {
  it("copy committed pages into the database from a worker while the writer never checkpoints", async () => {
    const file = join(tempDir(), "wb.db");
    const store = await openStore(file);
    const raw = store.sqlite;
    if (!raw) throw new Error("expected SQLite");
    const ckpt = startCheckpointer(store, 20);
    expect(raw.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    raw.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const insert = raw.prepare("INSERT INTO t (v) VALUES (?)");
    const before = statSync(file).size;
    for (let i = 0; i < 2000; i++) insert.run("x".repeat(500)); // one commit each: ~1 MB of WAL
    const deadline = Date.now() + 5000;
    while (statSync(file).size < before + 500_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file).size).toBeGreaterThan(before + 500_000); // the pages reached the database file
    await ckpt?.close();
    expect(raw.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    expect(raw.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2000 });
    await store.close();
  });
});
