/**
 * The ui part's public face: other parts import only this. fastify loads only when a server starts:
 * eval and redteam import this part at the end of every run (keepRunForUi), where it would cost start-up time.
 */
import type { FastifyInstance } from "fastify";
import type { UiServerOptions } from "./server/app.js";

export type { UiServerOptions } from "./server/app.js";
export { type KeptRun, keepFinishedRun, keepRunForUi } from "./server/keep.js";
export { printRunReport } from "./server/report-job.js";
export { CSP, isLoopback } from "./server/trust.js";

export async function createUiServer(opts: UiServerOptions): Promise<FastifyInstance> {
  return (await import("./server/app.js")).createUiServer(opts);
}
