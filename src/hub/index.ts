export { type DownloadOptions, type DownloadResult, downloadFile } from "./download-file.js";
export { hubToken, hubUrl, parseHfRef } from "./hub-url.js";
