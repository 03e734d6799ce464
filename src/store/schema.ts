/** Row types of the store's tables, derived from their definitions in tables.ts (names kept for the code that reads rows). */
import type { Database } from "./tables.js";

export type { Database } from "./tables.js";
export type RunsTable = Database["runs"];
export type ResultsTable = Database["results"];
export type CacheTable = Database["cache"];
export type PricesTable = Database["prices"];
export type BenchLevelsTable = Database["bench_levels"];
export type SnapshotsTable = Database["snapshots"];
export type SnapshotModelsTable = Database["snapshot_models"];
export type GatewayKeysTable = Database["gateway_keys"];
export type GatewayAuditTable = Database["gateway_audit"];
export type ShadowCountsTable = Database["shadow_counts"];
export type GatewayCapturesTable = Database["gateway_captures"];
export type ResultTurnsTable = Database["result_turns"];
