export { CSP, createUiServer, isLoopback, type UiServerOptions } from "./app.js";
export { keepFinishedRun, keepRunForUi } from "./keep.js";
export { printRunReport } from "./report-job.js";
