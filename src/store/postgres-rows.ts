/**
 * PostgreSQL's write path: Kysely multi-row inserts built from the table definitions (column list,
 * primary key for ON CONFLICT), all writes in one transaction. Rows go 200 to a statement, well
 * under PostgreSQL's 65,535 parameters for the widest table.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./tables.js";
import { TABLES } from "./tables.js";
import type { RowWrite, WritePath } from "./write.js";

const ROWS_PER_STATEMENT = 200;
type Loose = Kysely<Record<string, Record<string, unknown>>>;

async function insert(db: Loose, w: RowWrite): Promise<void> {
  const t = TABLES[w.table];
  const rest = t.names.filter((c) => !(t.primaryKey as readonly string[]).includes(c));
  const rows = w.rows.map((r) => Object.fromEntries(t.names.map((c) => [c, (r as Record<string, unknown>)[c] ?? null])));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const q = db.insertInto(t.name).values(rows.slice(i, i + ROWS_PER_STATEMENT));
    const key = [...t.primaryKey];
    if (w.conflict === "fail") await q.execute();
    else if (w.conflict === "ignore") await q.onConflict((oc) => oc.columns(key).doNothing()).execute();
    else await q.onConflict((oc) => oc.columns(key).doUpdateSet(Object.fromEntries(rest.map((c) => [c, sql.ref(`excluded.${c}`)])))).execute();
  }
}

export function postgresWritePath(db: Kysely<Database>): WritePath {
  return (writes) =>
    db.transaction().execute(async (tx) => {
      for (const w of writes) await insert(tx as unknown as Loose, w);
    });
}
