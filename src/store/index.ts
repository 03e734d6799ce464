export { type ArtifactRecord, getArtifact, listArtifacts, type StoredArtifact, saveArtifact } from "./artifacts.js";
export { auditWriter } from "./audit-writer.js";
export * from "./bench.js";
export { loadBenchLevels, saveBenchLevel } from "./bench.js";
export { cacheGet, cacheGetMany, cachePutMany } from "./cache.js";
export { startCheckpointer } from "./checkpointer.js";
export * from "./gateway.js";
export { listKeys } from "./gateway.js";
export * from "./open.js";
export { openStore, refreshStatistics, type StoreHandle } from "./open.js";
export * from "./prices.js";
export { loadPrices, savePrices } from "./prices.js";
export * from "./results.js";
export { finishedKeys, loadResults, resultKey, saveResults, sortedResults } from "./results.js";
export * from "./runs.js";
export {
  createRun,
  deleteRunIfEmpty,
  findRuns,
  finishRun,
  getRun,
  listRuns,
  markRunning,
  mergeIntoPlan,
  newRunId,
  type RunRow,
  type RunStatus,
  updateRunPlan,
} from "./runs.js";
export type { Database, GatewayCapturesTable, ResultsTable } from "./schema.js";
export * from "./shadow.js";
export { type HubModel, listSnapshots, loadSnapshotModels, saveSnapshot } from "./snapshots.js";
export { sqliteThread } from "./sqlite-thread.js";
export type { SearchIndexMessage } from "./sqlite-worker.js";
export { loadTurnFacts, loadTurns, saveTurns, turnWrites } from "./turns.js";
export {
  loadCaseTotal,
  loadRunReport,
  loadRunSummary,
  saveCaseTotal,
  saveCaseTotals,
  saveRunReport,
  saveRunSummary,
  searchCandidates,
  searchIndexed,
} from "./ui-derived.js";
export type { RowWrite } from "./write.js";
