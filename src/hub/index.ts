export {
  cacheRoot,
  type DatasetParquetFile,
  type DatasetSplitFiles,
  type DatasetSplitRef,
  fetchDatasetSplit,
  PARQUET_BRANCH,
} from "./dataset-parquet.js";
export * from "./download-file.js";
export { type DownloadOptions, type DownloadResult, downloadFile } from "./download-file.js";
export * from "./hub-fetch.js";
export { hubFetch } from "./hub-fetch.js";
export * from "./hub-url.js";
export { hubToken, hubUrl, parseHfRef } from "./hub-url.js";
export { type ListModelsOptions, listModels, nextLink, rateLimitWaitMs } from "./list-models.js";
export { type HubModel, type ParsedSnapshot, parseHubModel, parseSnapshotsJsonl } from "./model-object.js";
export { loadOrigins, type Origin, type Origins, type Reuploader } from "./origins.js";
