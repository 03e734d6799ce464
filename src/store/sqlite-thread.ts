/**
 * Start the store's worker thread (sqlite-worker.ts) on a SQLite store's file. The worker is a built
 * file: dist/store/sqlite-worker.js beside this module under tsc, dist/bundle/sqlite-worker.js beside
 * the CLI bundle's chunks; tests that run the sources use dist/ (npm run build). A worker that cannot
 * start emits "error" like one that fails later: callers fall back to doing the work themselves.
 */
import { Worker } from "node:worker_threads";
import type { StoreHandle } from "./open.js";
import type { SqliteWorkerData, SqliteWorkerRole } from "./sqlite-worker.js";

export function sqliteWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/store/sqlite-worker.js", here) : new URL("./sqlite-worker.js", here);
}

export function sqliteThread(store: StoreHandle, role: SqliteWorkerRole): Worker {
  return new Worker(sqliteWorkerUrl(), { workerData: { ...role, file: store.url } satisfies SqliteWorkerData });
}
