/**
 * A store's schema as the database itself reports it (SQLite's PRAGMAs, PostgreSQL's catalogs), in one
 * shape for both dialects, and the shape the definitions in src/store/tables.ts promise. Used by
 * schema.test.ts to compare migrated stores with the definitions.
 */
import { type Kysely, sql } from "kysely";
import type { AnyTable, Column } from "../../src/store/table.js";

export interface TableShape {
  /** [name, type, not null]; a primary key column counts as not null (SQLite allows NULL in a text key declared without NOT NULL; history did so). */
  columns: [string, string, boolean][];
  primaryKey: string[];
  foreignKeys: string[];
  unique: string[];
  indexes: Record<string, string>;
}
export type Shape = Record<string, TableShape>;

const isMigrationTable = (n: string) => n.startsWith("wb_migrations");

export function expectedShape(tables: readonly AnyTable[]): Shape {
  const out: Shape = {};
  for (const t of tables) {
    const cols = t.names.map((n) => [n, t.columns[n] as Column<unknown>] as const);
    out[t.name] = {
      columns: cols.map(([n, c]) => [n, c.type, !c.options.nullable || t.primaryKey.includes(n)]),
      primaryKey: [...t.primaryKey],
      foreignKeys: cols.filter(([, c]) => c.options.references).map(([n, c]) => `${n} -> ${c.options.references} cascade`),
      unique: cols.filter(([, c]) => c.options.unique).map(([n]) => n),
      indexes: Object.fromEntries(
        Object.entries(t.indexes).map(([name, ix]) => [name, `${ix.columns.join(",")}${ix.whereNotNull ? ` where ${ix.whereNotNull} not null` : ""}`]),
      ),
    };
  }
  return out;
}

type Raw = import("better-sqlite3").Database;

export function sqliteShape(raw: Raw): Shape {
  const out: Shape = {};
  const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  for (const t of tables.filter((n) => !isMigrationTable(n))) {
    const info = raw.pragma(`table_info(${t})`) as { name: string; type: string; notnull: number; pk: number }[];
    const indexes = raw.pragma(`index_list(${t})`) as { name: string; origin: string; partial: number }[];
    const colsOf = (ix: string) => (raw.pragma(`index_info(${ix})`) as { seqno: number; name: string }[]).sort((a, b) => a.seqno - b.seqno).map((c) => c.name);
    const partialColumn = (ix: string) =>
      /where\s+"?(\w+)"?\s+is\s+not\s+null/i.exec(raw.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(ix) as string)?.[1];
    out[t] = {
      columns: info.map((c) => [c.name, c.type.toLowerCase(), c.notnull === 1 || c.pk > 0]),
      primaryKey: info
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
      foreignKeys: (raw.pragma(`foreign_key_list(${t})`) as { from: string; table: string; to: string; on_delete: string }[]).map(
        (f) => `${f.from} -> ${f.table}.${f.to}${f.on_delete === "CASCADE" ? " cascade" : ""}`,
      ),
      unique: indexes.filter((i) => i.origin === "u").flatMap((i) => colsOf(i.name)),
      indexes: Object.fromEntries(
        indexes
          .filter((i) => i.origin === "c")
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((i) => [i.name, `${colsOf(i.name).join(",")}${i.partial ? ` where ${partialColumn(i.name)} not null` : ""}`]),
      ),
    };
  }
  return out;
}

const PG_CONSTRAINTS = sql<{ tbl: string; contype: string; cols: string; ftbl: string | null; fcols: string; confdeltype: string }>`
  SELECT c.conrelid::regclass::text AS tbl, c.contype,
    array_to_string(array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols,
    CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text END AS ftbl,
    array_to_string(array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ',') AS fcols,
    c.confdeltype
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() ORDER BY c.conname`;

const PG_INDEXES = sql<{ tbl: string; name: string; cols: string; pred: string | null }>`
  SELECT t.relname AS tbl, i.relname AS name,
    array_to_string(array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ',') AS cols,
    pg_get_expr(ix.indpred, ix.indrelid) AS pred
  FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE n.nspname = current_schema() AND NOT ix.indisunique ORDER BY i.relname`;

export async function postgresShape(db: Kysely<unknown>): Promise<Shape> {
  const cols = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>`
    SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`.execute(db);
  const out: Shape = {};
  for (const c of cols.rows) {
    if (isMigrationTable(c.table_name)) continue;
    out[c.table_name] ??= { columns: [], primaryKey: [], foreignKeys: [], unique: [], indexes: {} };
    out[c.table_name]?.columns.push([c.column_name, c.data_type, c.is_nullable === "NO"]);
  }
  for (const k of (await PG_CONSTRAINTS.execute(db)).rows) {
    const t = out[k.tbl];
    if (!t) continue;
    if (k.contype === "p") t.primaryKey = k.cols.split(",");
    if (k.contype === "u") t.unique.push(k.cols);
    if (k.contype === "f") t.foreignKeys.push(`${k.cols} -> ${k.ftbl}.${k.fcols}${k.confdeltype === "c" ? " cascade" : ""}`);
  }
  for (const ix of (await PG_INDEXES.execute(db)).rows) {
    const t = out[ix.tbl];
    // The search's pg_trgm indexes (migration 0012, PostgreSQL only, where the extension may be
    // installed) are no part of the portable definitions, as SQLite's FTS5 table results_fts is not.
    if (!t || /^results_trgm_/.test(ix.name)) continue;
    const partial = ix.pred && /^\(?(\w+) IS NOT NULL\)?$/.exec(ix.pred)?.[1];
    t.indexes[ix.name] = `${ix.cols}${ix.pred ? ` where ${partial ?? ix.pred} not null` : ""}`;
  }
  return out;
}
