export { loadBenchLevels, saveBenchLevel } from "./bench.js";
export { cacheGet, cacheGetMany, cachePutMany } from "./cache.js";
export { openStore, type StoreHandle } from "./open.js";
export { loadPrices, type StoredPrice, savePrices } from "./prices.js";
export { finishedKeys, type GradeRecord, loadResults, type ResultRecord, resultKey, saveResults } from "./results.js";
export { createRun, findRuns, finishRun, getRun, listRuns, markRunning, newRunId, type RunRow, type RunStatus } from "./runs.js";
export type { Database } from "./schema.js";
export { type HubModel, listSnapshots, loadSnapshotModels, type Snapshot, saveSnapshot } from "./snapshots.js";
