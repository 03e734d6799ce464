/**
 * The detection worker thread (started by pool.ts): runs detectAcross for one request at a time,
 * so that a large body never holds the gateway's event loop. Built as its own entry
 * (dist/detect/detect-worker.js by tsc, dist/bundle/detect-worker.js by scripts/bundle.mjs).
 * Detectors are rebuilt here from plain options (classes, custom classes, region) and kept per
 * distinct options.
 */
import { parentPort } from "node:worker_threads";
import { detectAcross } from "./across.js";
import { type DetectOptions, detectorSets } from "./redact.js";

export interface DetectJob {
  id: number;
  texts: string[];
  options: DetectOptions;
  /** Past this many values only the count comes back (see DetectPoolOptions.maxValues). */
  maxValues?: number;
}

const detectorsFor = detectorSets();

parentPort?.on("message", (job: DetectJob) => {
  try {
    const entities = detectAcross(job.texts, detectorsFor(job.options));
    const found = entities.reduce((n, list) => n + list.length, 0);
    // Past the bound, only the count crosses back: copying 10^5 entities would stall the caller's loop.
    if (found > (job.maxValues ?? Number.POSITIVE_INFINITY)) parentPort?.postMessage({ id: job.id, tooMany: found });
    else parentPort?.postMessage({ id: job.id, entities });
  } catch (e) {
    parentPort?.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
