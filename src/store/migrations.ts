/**
 * Migrations, written once for both dialects (portable column types only). 0001–0008 are history:
 * never edit them (stores in use have run them). A new table or column is defined in tables.ts and
 * its migration derived from the definition with ddl.ts (`createTableMigration(table)`,
 * `addColumnsMigration(table, name)`): docs/architecture.md, "Adding a table". test/store/schema.test.ts
 * checks that all migrations together give exactly the definitions.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from "kysely";
import { createTableMigration } from "./ddl.js";
import { artifacts, caseTotals, gatewayCaptures, resultsSearchRuns, resultTurns, runReports, runSummaries, shadowCounts } from "./tables.js";

/** Two derived migrations as one entry (created in order, dropped in reverse). */
const bothTables = (a: Migration, b: Migration): Migration => ({
  async up(db) {
    await a.up(db);
    await b.up(db);
  },
  async down(db) {
    await b.down?.(db);
    await a.down?.(db);
  },
});

const migrations: Record<string, Migration> = {
  "0001_runs_results_cache": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("runs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("finished_at", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("config_path", "text", (c) => c.notNull())
        .addColumn("plan_json", "text", (c) => c.notNull())
        .addColumn("pid", "integer")
        .addColumn("host", "text")
        .execute();
      await db.schema.createIndex("runs_created_at").on("runs").column("created_at").execute();
      await db.schema
        .createTable("results")
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
        .addColumn("suite", "text", (c) => c.notNull())
        .addColumn("case_index", "integer", (c) => c.notNull())
        .addColumn("model_id", "text", (c) => c.notNull())
        .addColumn("repeat", "integer", (c) => c.notNull())
        .addColumn("case_id", "text", (c) => c.notNull())
        .addColumn("messages_json", "text", (c) => c.notNull())
        .addColumn("output", "text")
        .addColumn("scores_json", "text", (c) => c.notNull())
        .addColumn("score", "double precision", (c) => c.notNull())
        .addColumn("passed", "integer", (c) => c.notNull())
        .addColumn("input_tokens", "integer", (c) => c.notNull())
        .addColumn("output_tokens", "integer", (c) => c.notNull())
        .addColumn("cost_pusd", "bigint")
        .addColumn("latency_ms", "double precision")
        .addColumn("ttft_ms", "double precision")
        .addColumn("error", "text")
        .addColumn("cached", "integer", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("results_pk", ["run_id", "suite", "case_index", "model_id", "repeat"])
        .execute();
      await db.schema
        .createTable("cache")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("response_json", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("cache").execute();
      await db.schema.dropTable("results").execute();
      await db.schema.dropTable("runs").execute();
      await sql`select 1`.execute(db);
    },
  },
  "0002_prices": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("prices")
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("model", "text", (c) => c.notNull())
        .addColumn("input", "double precision", (c) => c.notNull())
        .addColumn("output", "double precision", (c) => c.notNull())
        .addColumn("cached_input", "double precision")
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("as_of", "text", (c) => c.notNull())
        .addColumn("imported_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("prices_pk", ["provider", "model"])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("prices").execute();
    },
  },
  "0003_bench_levels": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("bench_levels")
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
        .addColumn("concurrency", "integer", (c) => c.notNull())
        .addColumn("metrics_json", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("bench_levels_pk", ["run_id", "concurrency"])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("bench_levels").execute();
    },
  },
  "0004_scoreboard": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("snapshots")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("taken_at", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("sort", "text")
        .addColumn("models", "integer", (c) => c.notNull())
        .addColumn("ingested_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("snapshot_models")
        .addColumn("snapshot_id", "text", (c) => c.notNull().references("snapshots.id").onDelete("cascade"))
        .addColumn("rank", "integer", (c) => c.notNull())
        .addColumn("model_id", "text", (c) => c.notNull())
        .addColumn("author", "text", (c) => c.notNull())
        .addColumn("downloads", "bigint", (c) => c.notNull())
        .addColumn("downloads_all_time", "bigint")
        .addColumn("likes", "integer", (c) => c.notNull())
        .addColumn("tags_json", "text", (c) => c.notNull())
        .addColumn("created_at", "text")
        .addColumn("library_name", "text")
        .addColumn("pipeline_tag", "text")
        .addColumn("parameters", "bigint")
        .addPrimaryKeyConstraint("snapshot_models_pk", ["snapshot_id", "model_id"])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("snapshot_models").execute();
      await db.schema.dropTable("snapshots").execute();
    },
  },
  "0005_gateway": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("gateway_keys")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("key_hash", "text", (c) => c.notNull().unique())
        .addColumn("routes_json", "text")
        .addColumn("rpm", "integer")
        .addColumn("tpm", "integer")
        .addColumn("budget_usd", "double precision")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text")
        .execute();
      await db.schema
        .createTable("gateway_audit")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("time", "text", (c) => c.notNull())
        .addColumn("key_name", "text")
        .addColumn("route", "text")
        .addColumn("deployment", "text")
        .addColumn("classes_json", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("status", "integer", (c) => c.notNull())
        .addColumn("input_tokens", "integer")
        .addColumn("output_tokens", "integer")
        .addColumn("cost_pusd", "bigint")
        .addColumn("latency_ms", "double precision")
        .addColumn("body", "text")
        .execute();
      await db.schema.createIndex("gateway_audit_time").on("gateway_audit").column("time").execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("gateway_audit").execute();
      await db.schema.dropTable("gateway_keys").execute();
    },
  },
  "0006_gateway_response_classes": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("gateway_audit").addColumn("response_classes_json", "text").execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable("gateway_audit").dropColumn("response_classes_json").execute();
    },
  },
  "0007_gateway_upstream_body": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("gateway_audit").addColumn("upstream_sha256", "text").execute();
      await db.schema.alterTable("gateway_audit").addColumn("attempts_json", "text").execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable("gateway_audit").dropColumn("attempts_json").execute();
      await db.schema.alterTable("gateway_audit").dropColumn("upstream_sha256").execute();
    },
  },
  /** Indexes for the UI's API (src/ui/server): a page of a 1,000,000-result run or of 1,000 runs reads an index, not the table. */
  "0008_ui_indexes": {
    async up(db: Kysely<unknown>) {
      const ix = (name: string, table: string, cols: string[]) => db.schema.createIndex(name).ifNotExists().on(table).columns(cols).execute();
      await ix("runs_ui_created", "runs", ["created_at", "id"]);
      await ix("runs_ui_kind_created", "runs", ["kind", "created_at", "id"]);
      await ix("results_ui_model", "results", ["run_id", "model_id", "suite", "case_index", "repeat"]);
      await ix("results_ui_passed", "results", ["run_id", "passed", "suite", "case_index", "model_id", "repeat"]);
      await ix("results_ui_score", "results", ["run_id", "score", "suite", "case_index", "model_id", "repeat"]);
      // Errors are rare: a partial index lists them without reading the rows that have none.
      await db.schema
        .createIndex("results_ui_errors")
        .ifNotExists()
        .on("results")
        .columns(["run_id", "suite", "case_index", "model_id", "repeat"])
        .where(sql.ref("error"), "is not", null)
        .execute();
      await ix("results_ui_latency", "results", ["run_id", "latency_ms", "suite", "case_index", "model_id", "repeat"]);
      await ix("results_ui_cost", "results", ["run_id", "cost_pusd", "suite", "case_index", "model_id", "repeat"]);
      await ix("gateway_audit_ui_key", "gateway_audit", ["key_name", "time"]);
      await ix("gateway_audit_ui_deployment", "gateway_audit", ["deployment", "time"]);
    },
    async down(db: Kysely<unknown>) {
      for (const name of [
        "runs_ui_created",
        "runs_ui_kind_created",
        "results_ui_model",
        "results_ui_passed",
        "results_ui_score",
        "results_ui_errors",
        "results_ui_latency",
        "results_ui_cost",
        "gateway_audit_ui_key",
        "gateway_audit_ui_deployment",
      ])
        await db.schema.dropIndex(name).ifExists().execute();
    },
  },
  /**
   * The UI at scale and its artifacts (src/ui/server; tables.ts): a finished run's Report, its
   * summary (models, suites, counts) and filtered case totals, which runs the search index holds
   * (the SQLite FTS5 index itself, results_fts, is made on first search: store/ui-derived.ts), and
   * what `scan`/`lock` found when run with a store.
   */
  "0009_ui_scale": {
    async up(db: Kysely<unknown>) {
      for (const t of [runReports, runSummaries, caseTotals, resultsSearchRuns, artifacts]) await createTableMigration(t).up(db);
    },
    async down(db: Kysely<unknown>) {
      for (const t of [artifacts, resultsSearchRuns, caseTotals, runSummaries, runReports]) await createTableMigration(t).down?.(db);
    },
  },
  /** Gateway shadow mode and capture (issue 20): mirrored pairs live in runs/results; these hold what is not a pair. */
  "0010_shadow_capture": bothTables(createTableMigration(shadowCounts), createTableMigration(gatewayCaptures)),
  /** Conversations (issue 19): one row per model answer of a multi-turn or tool case (tables.ts, resultTurns). */
  "0011_result_turns": createTableMigration(resultTurns),
  /**
   * PostgreSQL only: trigram indexes (pg_trgm, GIN) on the texts the UI's case search matches with
   * `ilike '%term%'`, so that a search reads index entries instead of every row (SQLite has its FTS5
   * index instead: store/search-index.ts). Where pg_trgm is not installed and this role may not
   * install it, nothing is created and search scans as before (the UI says so). On a store that
   * already holds many results, building these indexes takes a while, once.
   */
  "0012_search_trgm": {
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      const can = await sql<{ installed: boolean; creatable: boolean }>`
        select exists (select 1 from pg_extension where extname = 'pg_trgm') as installed,
               exists (select 1 from pg_available_extension_versions v where v.name = 'pg_trgm'
                        and (v.trusted or (select rolsuper from pg_roles where rolname = current_user)))
               and has_database_privilege(current_database(), 'CREATE') as creatable`.execute(db);
      const r = can.rows[0];
      if (!r?.installed && !r?.creatable) return;
      if (!r.installed) await sql`create extension if not exists pg_trgm`.execute(db);
      for (const col of SEARCHED)
        await sql`create index if not exists ${sql.id(`results_trgm_${col}`)} on results using gin (${sql.ref(col)} gin_trgm_ops)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const col of SEARCHED) await sql`drop index if exists ${sql.id(`results_trgm_${col}`)}`.execute(db);
    },
  },
};

/** The result columns the UI's search matches (ui/server/cases.ts). */
const SEARCHED = ["output", "messages_json", "case_id"] as const;

class InCodeProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  // Migration numbers are handed out to parallel branches: a store that ran 0011 before 0009 was merged
  // must still run 0009 (each migration creates its own tables, so their order does not matter).
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(),
    migrationTableName: "wb_migrations",
    migrationLockTableName: "wb_migrations_lock",
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`store migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message ?? String(error)}`);
  }
}
