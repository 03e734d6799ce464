/**
 * Every table of the store, defined once (table.ts says what a definition gives). Columns are listed
 * in the physical order the migrations produce (test/store/schema.test.ts checks it on SQLite and
 * PostgreSQL); a column or index that a later migration added says which. Times are ISO-8601 text;
 * money is integer pico-USD. Adding a table: docs/architecture.md, "Adding a table".
 */
import { bigint, defineTable, double, integer, type RowOf, text } from "./table.js";

export const runs = defineTable(
  "runs",
  {
    id: text(),
    kind: text(),
    created_at: text(),
    finished_at: text().nullable(),
    status: text<"running" | "completed" | "interrupted" | "failed">(),
    config_path: text(),
    plan_json: text(),
    pid: integer().nullable(),
    host: text().nullable(),
  },
  {
    primaryKey: ["id"],
    indexes: {
      runs_created_at: { columns: ["created_at"] },
      runs_ui_created: { columns: ["created_at", "id"], added: "0008_ui_indexes" },
      runs_ui_kind_created: { columns: ["kind", "created_at", "id"], added: "0008_ui_indexes" },
    },
  },
);

const RESULT_KEY = ["run_id", "suite", "case_index", "model_id", "repeat"] as const;
/** The UI's result pages: an order column, then the key (0008). */
const resultsBy = (...first: ("passed" | "score" | "latency_ms" | "cost_pusd")[]) => ({
  columns: ["run_id", ...first, "suite", "case_index", "model_id", "repeat"] as const,
  added: "0008_ui_indexes",
});

export const results = defineTable(
  "results",
  {
    run_id: text().references("runs.id"),
    suite: text(),
    case_index: integer(),
    model_id: text(),
    repeat: integer(),
    case_id: text(),
    messages_json: text(),
    output: text().nullable(),
    scores_json: text(),
    score: double(),
    passed: integer(),
    input_tokens: integer(),
    output_tokens: integer(),
    cost_pusd: bigint().nullable(),
    latency_ms: double().nullable(),
    ttft_ms: double().nullable(),
    error: text().nullable(),
    cached: integer(),
    attempts: integer(),
    created_at: text(),
  },
  {
    primaryKey: RESULT_KEY,
    indexes: {
      results_ui_model: { columns: ["run_id", "model_id", "suite", "case_index", "repeat"], added: "0008_ui_indexes" },
      results_ui_passed: resultsBy("passed"),
      results_ui_score: resultsBy("score"),
      // Errors are rare: a partial index lists them without reading the rows that have none.
      results_ui_errors: { columns: RESULT_KEY, whereNotNull: "error", added: "0008_ui_indexes" },
      results_ui_latency: resultsBy("latency_ms"),
      results_ui_cost: resultsBy("cost_pusd"),
    },
  },
);

export const cache = defineTable("cache", { key: text(), response_json: text(), created_at: text() }, { primaryKey: ["key"] });

export const prices = defineTable(
  "prices",
  {
    provider: text(),
    model: text(),
    /** USD per 1M tokens. */
    input: double(),
    output: double(),
    cached_input: double().nullable(),
    source: text(),
    as_of: text(),
    imported_at: text(),
  },
  { primaryKey: ["provider", "model"] },
);

export const benchLevels = defineTable(
  "bench_levels",
  { run_id: text().references("runs.id"), concurrency: integer(), metrics_json: text() },
  { primaryKey: ["run_id", "concurrency"] },
);

export const snapshots = defineTable(
  "snapshots",
  { id: text(), taken_at: text(), source: text(), sort: text().nullable(), models: integer(), ingested_at: text() },
  { primaryKey: ["id"] },
);

export const snapshotModels = defineTable(
  "snapshot_models",
  {
    snapshot_id: text().references("snapshots.id"),
    rank: integer(),
    model_id: text(),
    author: text(),
    downloads: bigint(),
    downloads_all_time: bigint().nullable(),
    likes: integer(),
    tags_json: text(),
    created_at: text().nullable(),
    library_name: text().nullable(),
    pipeline_tag: text().nullable(),
    parameters: bigint().nullable(),
  },
  { primaryKey: ["snapshot_id", "model_id"] },
);

export const gatewayKeys = defineTable(
  "gateway_keys",
  {
    name: text(),
    key_hash: text().unique(),
    routes_json: text().nullable(),
    rpm: integer().nullable(),
    tpm: integer().nullable(),
    budget_usd: double().nullable(),
    created_at: text(),
    revoked_at: text().nullable(),
  },
  { primaryKey: ["name"] },
);

export const gatewayAudit = defineTable(
  "gateway_audit",
  {
    id: text(),
    time: text(),
    key_name: text().nullable(),
    route: text().nullable(),
    deployment: text().nullable(),
    classes_json: text(),
    action: text(),
    status: integer(),
    input_tokens: integer().nullable(),
    output_tokens: integer().nullable(),
    cost_pusd: bigint().nullable(),
    latency_ms: double().nullable(),
    body: text().nullable(),
    /** Sensitive classes found in the answer (counts), null when nothing was answered. */
    response_classes_json: text().nullable().added("0006_gateway_response_classes"),
    /** SHA-256 (hex) of the exact body sent upstream by the attempt that answered; null when nothing was sent. */
    upstream_sha256: text().nullable().added("0007_gateway_upstream_body"),
    /** Earlier attempts that sent the request to another deployment and failed: [{deployment, sha256, error}]. */
    attempts_json: text().nullable().added("0007_gateway_upstream_body"),
  },
  {
    primaryKey: ["id"],
    indexes: {
      gateway_audit_time: { columns: ["time"] },
      gateway_audit_ui_key: { columns: ["key_name", "time"], added: "0008_ui_indexes" },
      gateway_audit_ui_deployment: { columns: ["deployment", "time"], added: "0008_ui_indexes" },
    },
  },
);

/** Mirrored requests of a shadow run that never became a pair, per shadow deployment: deltas appended every second, summed when read (issue 20). */
export const shadowCounts = defineTable(
  "shadow_counts",
  {
    id: text(),
    run_id: text().references("runs.id"),
    deployment: text(),
    time: text(),
    /** Dropped: the route's shadow queue was full. */
    dropped: integer(),
    /** Skipped: the data-class policy kept the request from this deployment. */
    skipped_by_policy: integer(),
  },
  { primaryKey: ["id"], indexes: { shadow_counts_run: { columns: ["run_id", "deployment"] } } },
);

/** Captured traffic (route `capture:`): the request's messages and the primary's answer with every detected value replaced by its placeholder (issue 20). */
export const gatewayCaptures = defineTable(
  "gateway_captures",
  {
    id: text(),
    route: text(),
    time: text(),
    deployment: text(),
    request_json: text(),
    answer: text(),
    /** Classes found in the request (counts). */
    classes_json: text(),
    /** SHA-256 of request_json, for deduplication. */
    request_sha256: text(),
  },
  { primaryKey: ["id"], indexes: { gateway_captures_route_time: { columns: ["route", "time"] } } },
);

/** One model answer of a conversation (issue 19, migration 0011): replayed on resume, read for tool-call fidelity. */
export const resultTurns = defineTable(
  "result_turns",
  {
    run_id: text().references("runs.id"),
    suite: text(),
    case_index: integer(),
    model_id: text(),
    repeat: integer(),
    turn: integer(),
    /** The answer: text, tool calls, finish reason, usage, latency, cached (evaluate's StoredTurn). */
    response_json: text(),
    /** Tool-call fidelity facts of the answer; null when the case offers no tools. */
    facts_json: text().nullable(),
    created_at: text(),
  },
  { primaryKey: [...RESULT_KEY, "turn"] },
);

/** A finished run's Report as the UI's run page shows it, valid while `fingerprint` holds (0009; ui/server/report-job.ts). */
export const runReports = defineTable(
  "run_reports",
  { run_id: text().references("runs.id"), fingerprint: text(), report_json: text(), built_at: text() },
  { primaryKey: ["run_id"] },
);

/** A finished run's models, suites, planned size and counts, for the UI's lists (0009; ui/server/http.ts). */
export const runSummaries = defineTable(
  "run_summaries",
  { run_id: text().references("runs.id"), status: text(), finished_at: text().nullable(), summary_json: text(), built_at: text() },
  { primaryKey: ["run_id"] },
);

/** A finished run's row count under one case filter of the UI (0009; ui/server/cases.ts). */
export const caseTotals = defineTable(
  "case_totals",
  { run_id: text().references("runs.id"), query_key: text(), total: bigint() },
  { primaryKey: ["run_id", "query_key"] },
);

/** Which runs the SQLite full-text index results_fts holds, and for which state of their results (0009; store/ui-derived.ts). */
export const resultsSearchRuns = defineTable(
  "results_search_runs",
  { run_id: text().references("runs.id"), fingerprint: text(), built_at: text() },
  { primaryKey: ["run_id"] },
);

/** What `scan` and `lock` found about a model artifact, when run with a store (0009; store/artifacts.ts). */
export const artifacts = defineTable(
  "artifacts",
  {
    id: text(),
    kind: text<"scan" | "lock">(),
    /** An absolute path, or hf:ORG/NAME[@REVISION]. */
    target: text(),
    /** The Hub repository (ORG/NAME) when known. */
    repo: text().nullable(),
    created_at: text(),
    /** scan: pass, review or fail; lock: null. */
    verdict: text().nullable(),
    summary_json: text(),
    /** The scan's --format json report, or the lockfile. */
    report_json: text(),
    /** The scan's ML-BOM (CycloneDX JSON); null for a lock. */
    bom_json: text().nullable(),
  },
  {
    primaryKey: ["id"],
    indexes: {
      artifacts_created: { columns: ["created_at", "id"] },
      artifacts_repo: { columns: ["repo", "created_at"] },
      artifacts_target: { columns: ["target", "created_at"] },
    },
  },
);

/** Every table, by name. A table missing here fails test/store/schema.test.ts once a migration creates it. */
export const TABLES = {
  runs,
  results,
  cache,
  prices,
  bench_levels: benchLevels,
  snapshots,
  snapshot_models: snapshotModels,
  gateway_keys: gatewayKeys,
  gateway_audit: gatewayAudit,
  shadow_counts: shadowCounts,
  gateway_captures: gatewayCaptures,
  result_turns: resultTurns,
  run_reports: runReports,
  run_summaries: runSummaries,
  case_totals: caseTotals,
  results_search_runs: resultsSearchRuns,
  artifacts,
} as const;

export type TableName = keyof typeof TABLES;

/** The store's Kysely database type, derived from the definitions. */
export type Database = { [N in TableName]: RowOf<(typeof TABLES)[N]> };
