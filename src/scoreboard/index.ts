export { loadOrigins, type Origin, type Origins } from "../hub/index.js";
export {
  attributionCounts,
  derivativesByFamily,
  type GroupBy,
  groupKey,
  type Metric,
  movers,
  type ShareRow,
  type SnapshotModel,
  shares,
  topModels,
  UNKNOWN,
} from "./analytics.js";
export { type Attribution, type AttributionMethod, attribute, baseModelsFromTags } from "./attribute.js";
export * from "./chart.js";
export { barChart, stackedShareChart } from "./chart.js";
export { FAMILY_RULES, matchFamily } from "./families.js";
export * from "./ingest.js";
export { type IngestResult, ingestFile, ingestHub } from "./ingest.js";
export * from "./show.js";
export { type ShowOptions, type ShowResult, showScoreboard } from "./show.js";
