export { CSP, createUiServer, isLoopback, type UiServerOptions } from "./app.js";
export { printRunReport } from "./report-job.js";
