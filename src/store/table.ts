/**
 * How a table is defined once (issue 17): its columns in physical order with their portable SQL
 * types, its primary key and its indexes. From one definition come the Kysely row type (`RowOf`),
 * the insert column list and statement (`insertSql`, `valuesOf`), a migration that creates it
 * (`createTableFrom`, in ddl.ts) and the test that compares a migrated store with it
 * (test/store/schema.test.ts). Plain data and pure functions: the SQLite worker thread imports it.
 */

/** The portable column types both dialects accept (SQLite keeps the declared name; PostgreSQL has each). */
export type SqlType = "text" | "integer" | "bigint" | "double precision";

interface ColumnOptions {
  nullable?: boolean;
  unique?: boolean;
  /** `table.column`; rows are deleted with the row they reference. */
  references?: string;
  /** The migration that added the column to an existing table (absent: created with the table). */
  added?: string;
}

/** A column; `T` is the value a row holds (a phantom type: only the row type reads it). */
export class Column<T> {
  declare readonly __value?: T;
  constructor(
    readonly type: SqlType,
    readonly options: ColumnOptions = {},
  ) {}
  nullable(): Column<T | null> {
    return new Column<T | null>(this.type, { ...this.options, nullable: true });
  }
  unique(): Column<T> {
    return new Column<T>(this.type, { ...this.options, unique: true });
  }
  references(target: `${string}.${string}`): Column<T> {
    return new Column<T>(this.type, { ...this.options, references: target });
  }
  /** Added by a later migration: `createTableFrom` leaves it out, `addColumnsFrom(table, migration)` adds it. */
  added(migration: string): Column<T> {
    return new Column<T>(this.type, { ...this.options, added: migration });
  }
}

/** Columns are NOT NULL unless `.nullable()`. */
export const text = <T extends string = string>() => new Column<T>("text");
export const integer = () => new Column<number>("integer");
/** 64-bit integers (money in pico-USD, download counts); read back as numbers (values stay below 2^53). */
export const bigint = () => new Column<number>("bigint");
export const double = () => new Column<number>("double precision");

type Columns = Record<string, Column<unknown>>;

export interface IndexDefinition<C extends string = string> {
  columns: readonly C[];
  /** A partial index over the rows where this column is not null. */
  whereNotNull?: C;
  /** The migration that added the index to an existing table (absent: created with the table). */
  added?: string;
}

/** Any table, for code that handles every table alike (a definition's key types widened to string). */
export interface AnyTable {
  readonly name: string;
  readonly columns: Columns;
  readonly names: readonly string[];
  readonly primaryKey: readonly string[];
  readonly primaryKeyName?: string;
  readonly indexes: Readonly<Record<string, IndexDefinition>>;
}

export interface TableDefinition<N extends string, C extends Columns> extends AnyTable {
  readonly name: N;
  readonly columns: C;
  /** Column names in physical order: the insert column list. */
  readonly names: readonly (keyof C & string)[];
  readonly primaryKey: readonly (keyof C & string)[];
  /** Name of a composite primary key's constraint (a single-column key is declared on its column). */
  readonly primaryKeyName?: string;
  readonly indexes: Readonly<Record<string, IndexDefinition<keyof C & string>>>;
}

export function defineTable<const N extends string, C extends Columns>(
  name: N,
  columns: C,
  o: { primaryKey: readonly (keyof C & string)[]; indexes?: Record<string, IndexDefinition<keyof C & string>> },
): TableDefinition<N, C> {
  return {
    name,
    columns,
    names: Object.keys(columns) as (keyof C & string)[],
    primaryKey: o.primaryKey,
    ...(o.primaryKey.length > 1 ? { primaryKeyName: `${name}_pk` } : {}),
    indexes: o.indexes ?? {},
  };
}

/** The row a table holds, as Kysely sees it. */
export type RowOf<D extends { columns: Columns }> = { [K in keyof D["columns"]]: D["columns"][K] extends Column<infer T> ? T : never };

/**
 * What an insert does when a row's primary key is taken: `update` every other column, `ignore` the
 * row, or `fail` (a plain insert). Only the primary key's uniqueness is meant: a NOT NULL or foreign
 * key violation fails in every mode (unlike SQLite's INSERT OR IGNORE).
 */
export type Conflict = "update" | "ignore" | "fail";

/** The insert statement with one `?` per column in `names` order (SQLite and PostgreSQL spell ON CONFLICT the same). */
export function insertSql(t: AnyTable, conflict: Conflict): string {
  const head = `INSERT INTO ${t.name} (${t.names.join(", ")}) VALUES (${t.names.map(() => "?").join(", ")})`;
  if (conflict === "fail") return head;
  const target = ` ON CONFLICT (${t.primaryKey.join(", ")})`;
  if (conflict === "ignore") return `${head}${target} DO NOTHING`;
  const rest = t.names.filter((c) => !t.primaryKey.includes(c));
  return `${head}${target} DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(", ")}`;
}

/** A row's values in `names` order (a column the row lacks is NULL: the database's NOT NULL then refuses it). */
export function valuesOf(t: AnyTable, row: Readonly<Record<string, unknown>>): unknown[] {
  const out = new Array<unknown>(t.names.length);
  for (let i = 0; i < t.names.length; i++) out[i] = row[t.names[i] as string] ?? null;
  return out;
}
