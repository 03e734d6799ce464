/**
 * Every table is defined once (src/store/tables.ts); these tests fail when the definitions and the
 * migrations disagree. A fresh store built by the migrations (history, 0001 onwards) is compared
 * column by column — names, order, types, NOT NULL, keys, foreign keys, indexes — with the
 * definitions, on SQLite and on PostgreSQL; so is a store built only from the definitions' own DDL
 * (the way new tables are made); and a store written by the code of migration 0008 still opens.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type Migration, PostgresDialect, SqliteDialect } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addColumnsMigration, createTableMigration } from "../../src/store/ddl.js";
import { listAudit, listKeys } from "../../src/store/gateway.js";
import { openStore } from "../../src/store/open.js";
import { loadPrices } from "../../src/store/prices.js";
import { loadResults } from "../../src/store/results.js";
import { getRun } from "../../src/store/runs.js";
import { loadSnapshotModels } from "../../src/store/snapshots.js";
import { TABLES } from "../../src/store/tables.js";
import { type Postgres, startPostgres } from "../support/postgres.js";
import { tempDir } from "../support/project.js";
import { expectedShape, postgresShape, type Shape, sqliteShape } from "./introspect.js";

const DEFINED = Object.values(TABLES);
const sorted = (s: Shape): Shape =>
  Object.fromEntries(
    Object.entries(s)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([n, t]) => [n, { ...t, foreignKeys: [...t.foreignKeys].sort(), unique: [...t.unique].sort() }]),
  );
const EXPECTED = sorted(expectedShape(DEFINED));

/** Every table from its definition, then each later migration's columns and indexes, in migration order. */
async function buildFromDefinitions(db: Kysely<unknown>): Promise<void> {
  const steps: Migration[] = DEFINED.map((t) => createTableMigration(t));
  const later = new Set(DEFINED.flatMap((t) => [...Object.values(t.columns).map((c) => c.options.added), ...Object.values(t.indexes).map((i) => i.added)]));
  for (const m of [...later].filter((x): x is string => x !== undefined).sort()) for (const t of DEFINED) steps.push(addColumnsMigration(t, m));
  for (const s of steps) await s.up(db);
}

describe("table definitions and migrations agree (SQLite)", () => {
  it("a store made by the migrations has exactly the defined tables, columns, keys and indexes", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    expect(sorted(sqliteShape(store.sqlite as BetterSqlite3.Database))).toEqual(EXPECTED);
    await store.close();
  });

  it("the definitions' own DDL builds the same store", async () => {
    const raw = new BetterSqlite3(join(tempDir(), "derived.db"));
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    await buildFromDefinitions(db);
    expect(sorted(sqliteShape(raw))).toEqual(EXPECTED);
    await db.destroy();
  });

  it("notices a column the definitions do not have", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    store.sqlite?.exec("ALTER TABLE results ADD COLUMN stray text");
    expect(sorted(sqliteShape(store.sqlite as BetterSqlite3.Database))).not.toEqual(EXPECTED);
    await store.close();
  });

  it("a store written by the code of migration 0008 opens and reads back every row", async () => {
    const file = join(tempDir(), "old.sqlite");
    copyFileSync(join(import.meta.dirname, "fixtures/store-0008.sqlite"), file);
    const store = await openStore(file);
    expect(sorted(sqliteShape(store.sqlite as BetterSqlite3.Database))).toEqual(EXPECTED);
    expect(await getRun(store.db, "run-old")).toMatchObject({ kind: "eval", status: "completed", plan: { suites: ["qa"] } });
    const results = await loadResults(store.db, "run-old");
    expect(results.map((r) => [r.modelId, r.output, r.passed, r.costPusd, r.error])).toEqual([
      ["m-a", "hello", true, 1234567, null],
      ["m-b", null, false, null, "timeout"],
    ]);
    expect(results[0]?.grades).toEqual([{ type: "contains", score: 1, pass: true }]);
    expect((await loadPrices(store.db))[0]).toMatchObject({ provider: "openai", input: 1.25, cachedInput: 0.125 });
    expect((await loadSnapshotModels(store.db, "snap-old"))[0]).toMatchObject({ id: "org/a", downloads: 5_000_000_000, parameters: 7_000_000_000 });
    expect((await listKeys(store.db))[0]).toMatchObject({ name: "bot", routes: ["support"], budgetUsd: 2.5 });
    expect((await listAudit(store.db))[0]).toMatchObject({
      key_name: "bot",
      classes: { EMAIL: 1 },
      response_classes: { PHONE: 2 },
      attempts: [{ deployment: "ext", error: "503" }],
    });
    await store.close();
  });
});

describe("table definitions and migrations agree (PostgreSQL)", () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.stop());

  it("a database made by the migrations has exactly the defined tables, columns, keys and indexes", async () => {
    const store = await openStore(await pg.database());
    expect(sorted(await postgresShape(store.db as Kysely<unknown>))).toEqual(EXPECTED);
    await store.close();
  }, 30_000);

  it("the definitions' own DDL builds the same database", async () => {
    const { default: pgLib } = await import("pg");
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pgLib.Pool({ connectionString: await pg.database(), max: 1 }) }) });
    await buildFromDefinitions(db);
    expect(sorted(await postgresShape(db))).toEqual(EXPECTED);
    await db.destroy();
  }, 30_000);
});
