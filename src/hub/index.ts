export { type DownloadOptions, type DownloadResult, downloadFile } from "./download-file.js";
export { hubToken, hubUrl, parseHfRef } from "./hub-url.js";
export { type ListModelsOptions, listModels, nextLink, rateLimitWaitMs } from "./list-models.js";
export { type ParsedSnapshot, parseHubModel, parseSnapshotsJsonl } from "./model-object.js";
