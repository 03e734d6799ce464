/**
 * Open the store: SQLite file (default, embedded) or PostgreSQL (postgres:// URL). One schema,
 * two dialects; everything above this file speaks Kysely (reads) and the store's functions (writes,
 * which take each dialect's one write path: write.ts).
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Kysely, SqliteDialect } from "kysely";
import type { ResultRecord } from "../records/index.js";
import { UserError } from "../util/errors.js";
import { migrateToLatest } from "./migrations.js";
import { postgresWritePath } from "./postgres-rows.js";
import { type CacheEntry, resultAndCacheWrites } from "./results.js";
import { encodeWrites, sqliteApplier } from "./sqlite-rows.js";
import type { Database } from "./tables.js";
import { registerWritePath, type WritePath } from "./write.js";

export interface StoreHandle {
  db: Kysely<Database>;
  url: string;
  dialect: "sqlite" | "postgres";
  /** Human-readable location, for "the run is stored in …". */
  location: string;
  /** The dialect's one write path: commit rows of any tables in one transaction. */
  write: WritePath;
  /** Commit results and cache entries together (the runner's hot path). */
  writeBatch(results: ResultRecord[], cache: CacheEntry[]): Promise<void>;
  /** The SQLite connection (pragmas, the audit writer's and checkpointer's threads); undefined on PostgreSQL. */
  sqlite?: import("better-sqlite3").Database;
  close(): Promise<void>;
}

export async function openStore(url: string): Promise<StoreHandle> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]; // two letters or more: C:\ is a Windows drive
  if (scheme && scheme.toLowerCase() !== "sqlite" && scheme.toLowerCase() !== "file")
    throw new UserError(`store: unsupported database URL scheme "${scheme}:"`, "use postgres://… for PostgreSQL, or a file path / sqlite:PATH for SQLite");
  const file = url.startsWith("sqlite:")
    ? url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "")
    : url.startsWith("file://")
      ? url.slice("file://".length)
      : url;
  return openSqlite(resolve(file));
}

async function openSqlite(file: string): Promise<StoreHandle> {
  // Virtual filesystems: SQLite on /proc or /sys can block forever instead of failing.
  if (/^\/(proc|sys|dev)(\/|$)/.test(file))
    throw new UserError(
      `store: ${file} is on a virtual filesystem, not a place for a database`,
      "set WEIGHTBRIDGE_DATABASE_URL (or store: in the config) to a normal writable path",
    );
  const { default: BetterSqlite3 } = await import("better-sqlite3");
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (e) {
    throw new UserError(`store: cannot create ${dirname(file)}: ${(e as Error).message}`, "set WEIGHTBRIDGE_DATABASE_URL to a writable path");
  }
  let raw: import("better-sqlite3").Database;
  try {
    raw = new BetterSqlite3(file);
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = NORMAL");
    raw.pragma("busy_timeout = 5000");
    raw.pragma("foreign_keys = ON");
  } catch (e) {
    throw new UserError(
      `store: cannot open SQLite database ${file}: ${(e as Error).message}`,
      "check the file is a weightbridge database and is writable, or point WEIGHTBRIDGE_DATABASE_URL elsewhere",
    );
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  await migrateToLatest(db as Kysely<unknown>);
  const apply = sqliteApplier(raw);
  const write: WritePath = async (writes) => apply(encodeWrites(writes));
  return handle({ db, url: file, dialect: "sqlite", location: file, write, sqlite: raw });
}

async function openPostgres(url: string): Promise<StoreHandle> {
  const { PostgresDialect } = await import("kysely");
  let pg: typeof import("pg");
  try {
    pg = (await import("pg")).default as unknown as typeof import("pg");
  } catch {
    throw new UserError("store: PostgreSQL needs the `pg` package", "run `npm i pg` or use a SQLite path");
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // bigint columns (cost) come back as numbers; values stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (e) {
    await db.destroy();
    throw new UserError(
      `store: cannot use PostgreSQL at ${url.replace(/\/\/[^@]*@/, "//***@")}: ${(e as Error).message}`,
      "check WEIGHTBRIDGE_DATABASE_URL and that the server is running",
    );
  }
  return handle({ db, url, dialect: "postgres", location: url.replace(/\/\/[^@]*@/, "//***@"), write: postgresWritePath(db) });
}

/**
 * Before a SQLite connection closes (and when the UI server opens one: a long-lived connection over a
 * store another tool filled), SQLite refreshes its planner statistics for tables that grew
 * (`PRAGMA optimize` over every table, sampling at most 1,000 rows per index: ~18 ms on a
 * 1,000,000-row table, nothing when nothing changed). Without them a store that eval filled and
 * nothing ever analysed made the UI's cases page pick a bad plan: 2.5 s at 1,000,000 results against
 * 4–10 ms once analysed (bench/ui-vs-promptfoo.mjs). Best effort: a busy or read-only store skips it.
 * PostgreSQL's autovacuum analyses on its own.
 */
export function refreshStatistics(raw: import("better-sqlite3").Database | undefined): void {
  if (!raw?.open) return;
  try {
    raw.pragma("analysis_limit = 1000");
    raw.pragma("optimize = 0x10002");
  } catch {
    // busy or read-only: the statistics wait for the next close
  }
}

function handle(h: Omit<StoreHandle, "writeBatch" | "close">): StoreHandle {
  registerWritePath(h.db, h.write);
  return {
    ...h,
    writeBatch: (results, cache) => h.write(resultAndCacheWrites(results, cache)),
    close: () => {
      refreshStatistics(h.sqlite);
      return h.db.destroy();
    },
  };
}
