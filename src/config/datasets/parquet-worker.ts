/**
 * The Parquet decoding thread (started by parquet-isolated.ts): decodes the requested rows of one
 * file and posts them back. Decoding runs here, not on the main thread, because hyparquet trusts
 * counts inside pages (an RLE run may claim billions of values) and a hostile page could otherwise
 * hold the process for hours; here a time and heap limit end it. Built as its own entry
 * (dist/config/datasets/parquet-worker.js by tsc, dist/bundle/parquet-worker.js by scripts/bundle.mjs).
 */
import { parentPort, workerData } from "node:worker_threads";
import { UserError } from "../../util/errors.js";
import { openParquet, readParquetRows } from "./parquet-rows.js";

export interface ParquetJob {
  file: string;
  label: string;
  indexes: number[];
}

export type ParquetReply = { rows: Awaited<ReturnType<typeof readParquetRows>> } | { error: string; hint?: string; user: boolean };

async function run(job: ParquetJob): Promise<ParquetReply> {
  try {
    const p = await openParquet(job.file, job.label);
    return { rows: await readParquetRows(p, job.indexes) };
  } catch (e) {
    if (e instanceof UserError) return { error: e.message, ...(e.hint ? { hint: e.hint } : {}), user: true };
    return { error: (e as Error).stack ?? String(e), user: false };
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ParquetJob).then((reply) => port.postMessage(reply));
}
