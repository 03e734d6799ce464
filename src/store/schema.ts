/** Table types shared by both dialects. Times are ISO-8601 strings; money is integer pico-USD. */
export interface RunsTable {
  id: string;
  kind: string;
  created_at: string;
  finished_at: string | null;
  status: "running" | "completed" | "interrupted" | "failed";
  config_path: string;
  plan_json: string;
  pid: number | null;
  host: string | null;
}

export interface ResultsTable {
  run_id: string;
  suite: string;
  case_index: number;
  model_id: string;
  repeat: number;
  case_id: string;
  messages_json: string;
  output: string | null;
  scores_json: string;
  score: number;
  passed: number;
  input_tokens: number;
  output_tokens: number;
  cost_pusd: number | null;
  latency_ms: number | null;
  ttft_ms: number | null;
  error: string | null;
  cached: number;
  attempts: number;
  created_at: string;
}

export interface CacheTable {
  key: string;
  response_json: string;
  created_at: string;
}

export interface PricesTable {
  provider: string;
  model: string;
  /** USD per 1M tokens. */
  input: number;
  output: number;
  cached_input: number | null;
  source: string;
  as_of: string;
  imported_at: string;
}

export interface BenchLevelsTable {
  run_id: string;
  concurrency: number;
  metrics_json: string;
}

export interface SnapshotsTable {
  id: string;
  taken_at: string;
  source: string;
  sort: string | null;
  models: number;
  ingested_at: string;
}

export interface SnapshotModelsTable {
  snapshot_id: string;
  rank: number;
  model_id: string;
  author: string;
  downloads: number;
  downloads_all_time: number | null;
  likes: number;
  tags_json: string;
  created_at: string | null;
  library_name: string | null;
  pipeline_tag: string | null;
  parameters: number | null;
}

export interface GatewayKeysTable {
  name: string;
  key_hash: string;
  routes_json: string | null;
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  created_at: string;
  revoked_at: string | null;
}

export interface GatewayAuditTable {
  id: string;
  time: string;
  key_name: string | null;
  route: string | null;
  deployment: string | null;
  classes_json: string;
  /** Sensitive classes found in the answer (counts), null when nothing was answered. */
  response_classes_json: string | null;
  action: string;
  status: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_pusd: number | null;
  latency_ms: number | null;
  body: string | null;
  /** SHA-256 (hex) of the exact body sent upstream by the attempt that answered; null when nothing was sent. */
  upstream_sha256: string | null;
  /** Earlier attempts that sent the request to another deployment and failed: [{deployment, sha256, error}]. */
  attempts_json: string | null;
}

/** One model answer of a conversation (migration 0011). */
export interface ResultTurnsTable {
  run_id: string;
  suite: string;
  case_index: number;
  model_id: string;
  repeat: number;
  turn: number;
  /** The answer: text, tool calls, finish reason, usage, latency, cached (evaluate's StoredTurn). */
  response_json: string;
  /** Tool-call fidelity facts of the answer; null when the case offers no tools. */
  facts_json: string | null;
  created_at: string;
}

export interface Database {
  gateway_keys: GatewayKeysTable;
  gateway_audit: GatewayAuditTable;
  snapshots: SnapshotsTable;
  snapshot_models: SnapshotModelsTable;
  prices: PricesTable;
  bench_levels: BenchLevelsTable;
  runs: RunsTable;
  results: ResultsTable;
  result_turns: ResultTurnsTable;
  cache: CacheTable;
}
