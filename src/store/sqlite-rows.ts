/**
 * SQLite's write path: rows become positional values in the table definition's column order
 * (`encodeWrites`, on the caller's thread) and are inserted by prepared statements derived from the
 * definitions, all in one synchronous transaction (`sqliteApplier`). Kysely compiles and prepares
 * every query, which cost ~0.2 ms a row here; a cached statement costs ~4 µs. The gateway's audit
 * writer runs the applier on a worker thread (sqlite-worker.ts), so this file imports no Kysely.
 */
import type { Database as Connection, Statement } from "better-sqlite3";
import { type Conflict, insertSql, valuesOf } from "./table.js";
import { TABLES, type TableName } from "./tables.js";
import type { RowWrite } from "./write.js";

/** A write as it crosses to a worker thread: plain values, cheap to clone. */
export interface EncodedWrite {
  table: TableName;
  conflict: Conflict;
  values: unknown[][];
}

export function encodeWrites(writes: readonly RowWrite[]): EncodedWrite[] {
  return writes.map((w) => {
    const t = TABLES[w.table];
    return { table: w.table, conflict: w.conflict, values: w.rows.map((r) => valuesOf(t, r)) };
  });
}

/** Commit encoded writes in one transaction (a savepoint inside an open one). Throws what SQLite throws. */
export function sqliteApplier(raw: Connection): (writes: readonly EncodedWrite[]) => void {
  const statements = new Map<string, Statement>();
  const statement = (table: TableName, conflict: Conflict) => {
    const key = `${table} ${conflict}`;
    let s = statements.get(key);
    if (!s) {
      s = raw.prepare(insertSql(TABLES[table], conflict));
      statements.set(key, s);
    }
    return s;
  };
  return raw.transaction((writes: readonly EncodedWrite[]) => {
    for (const w of writes) {
      const s = statement(w.table, w.conflict);
      for (const v of w.values) s.run(v);
    }
  });
}
