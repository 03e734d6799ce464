/**
 * A worker thread with its own connection to a SQLite store's file, for work kept off the caller's
 * event loop (audit commits, WAL checkpoints). `code` runs as CommonJS with `db` (better-sqlite3,
 * busy_timeout 5 s), `parentPort` and `workerData` (holding `data`) in scope.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { StoreHandle } from "./open.js";

const PREAMBLE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
`;

export function sqliteWorker(store: StoreHandle, code: string, data: Record<string, unknown>): Worker {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  return new Worker(PREAMBLE + code, { eval: true, workerData: { ...data, driver, file: store.url } });
}
