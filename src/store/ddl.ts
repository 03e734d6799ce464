/**
 * Migrations derived from table definitions (tables.ts), so a new table or column is written once:
 * `createTableMigration(table)` creates the table with the columns and indexes it was born with;
 * `addColumnsMigration(table, name)` adds the columns and indexes marked `.added(name)`. Migrations
 * 0001–0008 predate this and stay as written (history); test/store/schema.test.ts checks that all of
 * them together give exactly the definitions.
 */
import { type Kysely, type Migration, sql } from "kysely";
import type { AnyTable, Column, IndexDefinition } from "./table.js";

const bornWith = (x: { added?: string }) => x.added === undefined;

async function createIndexes(db: Kysely<unknown>, t: AnyTable, pick: (ix: IndexDefinition) => boolean): Promise<void> {
  for (const [name, ix] of Object.entries(t.indexes)) {
    if (!pick(ix)) continue;
    const q = db.schema
      .createIndex(name)
      .ifNotExists()
      .on(t.name)
      .columns([...ix.columns]);
    await (ix.whereNotNull ? q.where(sql.ref(ix.whereNotNull), "is not", null) : q).execute();
  }
}

function columnOf(c: Column<unknown>, single: boolean) {
  return (b: import("kysely").ColumnDefinitionBuilder) => {
    let out = b;
    if (single) out = out.primaryKey();
    if (!c.options.nullable) out = out.notNull();
    if (c.options.unique) out = out.unique();
    if (c.options.references) out = out.references(c.options.references).onDelete("cascade");
    return out;
  };
}

export function createTableMigration(t: AnyTable): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const single = t.primaryKey.length === 1 ? t.primaryKey[0] : undefined;
      let q = db.schema.createTable(t.name);
      for (const name of t.names) {
        const c = t.columns[name] as Column<unknown>;
        if (bornWith(c.options)) q = q.addColumn(name, c.type, columnOf(c, name === single));
      }
      if (!single) q = q.addPrimaryKeyConstraint(t.primaryKeyName ?? `${t.name}_pk`, [...t.primaryKey] as never);
      await q.execute();
      await createIndexes(db, t, bornWith);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable(t.name).execute();
    },
  };
}

export function addColumnsMigration(t: AnyTable, migration: string): Migration {
  const cols = t.names.filter((n) => (t.columns[n] as Column<unknown>).options.added === migration);
  const indexes = Object.entries(t.indexes).filter(([, ix]) => ix.added === migration);
  return {
    async up(db: Kysely<unknown>) {
      // A column added to an existing table may not be NOT NULL without a default: the definition must say .nullable().
      for (const name of cols)
        await db.schema
          .alterTable(t.name)
          .addColumn(name, (t.columns[name] as Column<unknown>).type, columnOf(t.columns[name] as Column<unknown>, false))
          .execute();
      await createIndexes(db, t, (ix) => ix.added === migration);
    },
    async down(db: Kysely<unknown>) {
      for (const [name] of indexes) await db.schema.dropIndex(name).ifExists().execute();
      for (const name of [...cols].reverse()) await db.schema.alterTable(t.name).dropColumn(name).execute();
    },
  };
}
