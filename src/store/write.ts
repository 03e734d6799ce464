/**
 * The store's one write path (issue 17): every row any part stores goes through `writeRows`, which
 * commits a list of table writes atomically (one transaction). Each dialect has one implementation:
 * SQLite runs statements derived from the table definitions (sqlite-rows.ts; the gateway's audit
 * writer runs the same code on a worker thread), PostgreSQL runs Kysely inserts built from the same
 * definitions (postgres-rows.ts). openStore registers its Kysely instance's path here, so the store's
 * functions keep taking `db` as they always have. Updates and deletes stay Kysely queries.
 */
import type { Kysely } from "kysely";
import type { Conflict } from "./table.js";
import type { Database, TableName } from "./tables.js";

/** Rows for one table, and what to do when a row's primary key is already taken. */
export type RowWrite = { [N in TableName]: { table: N; rows: readonly Database[N][]; conflict: Conflict } }[TableName];

/** Commit the writes in one transaction, in order; resolves once they are committed. */
export type WritePath = (writes: readonly RowWrite[]) => Promise<void>;

const paths = new WeakMap<object, WritePath>();

export function registerWritePath(db: Kysely<Database>, path: WritePath): void {
  paths.set(db, path);
}

export function writeRows(db: Kysely<Database>, writes: readonly RowWrite[]): Promise<void> {
  const path = paths.get(db);
  if (!path) throw new Error("store: writeRows needs the Kysely instance openStore returned (a transaction or another instance has no write path)");
  return path(writes);
}
