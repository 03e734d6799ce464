/**
 * Decode Parquet rows on a worker thread with a time limit and a heap limit, so that a hostile file
 * whose pages claim absurd counts ends as a one-line error instead of a hung or exhausted process.
 * The footer was already checked on the main thread (openParquet: size, magic, footer length, row
 * count, column chunks). The limit is 60 s plus 60 s per 100 MiB of file, or
 * WEIGHTBRIDGE_PARQUET_TIMEOUT seconds. Run from the TypeScript sources (tests) the built worker is
 * used, since Node 20 does not run .ts files (as src/detect/pool.ts does).
 */
import { statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { UserError } from "../../util/errors.js";
import type { ParquetJob, ParquetReply } from "./parquet-worker.js";
import type { Row } from "./rows.js";

const HEAP_MB = 2048;

export function parquetWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../../dist/config/datasets/parquet-worker.js", here) : new URL("./parquet-worker.js", here);
}

function limitMs(file: string): number {
  const env = Number(process.env.WEIGHTBRIDGE_PARQUET_TIMEOUT);
  if (Number.isFinite(env) && env > 0) return env * 1000;
  return 60_000 + Math.ceil(statSync(file).size / (100 * 2 ** 20)) * 60_000;
}

export function readParquetRowsIsolated(file: string, label: string, indexes: number[]): Promise<Row[]> {
  const ms = limitMs(file);
  return new Promise<Row[]>((resolve, reject) => {
    const worker = new Worker(parquetWorkerUrl(), {
      workerData: { file, label, indexes } satisfies ParquetJob,
      resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
    });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      f();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new UserError(
              `${label}: decoding the Parquet rows took longer than ${ms / 1000} s and was stopped`,
              "the file may be damaged or hostile; for a very large legitimate file raise WEIGHTBRIDGE_PARQUET_TIMEOUT (seconds)",
            ),
          ),
        ),
      ms,
    );
    worker.on("message", (m: ParquetReply) =>
      settle(() => {
        if ("rows" in m) resolve(m.rows);
        else if (m.user) reject(new UserError(m.error, m.hint));
        else reject(new Error(`Parquet worker: ${m.error}`));
      }),
    );
    worker.on("error", (e: Error & { code?: string }) =>
      settle(() =>
        reject(
          e.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? new UserError(
                `${label}: decoding the Parquet rows needed more than ${HEAP_MB} MB and was stopped`,
                "the file may be damaged or hostile; sample fewer rows (limit:)",
              )
            : e,
        ),
      ),
    );
    worker.on("exit", (code) => settle(() => reject(new Error(`Parquet worker exited (code ${code}) without an answer`))));
  });
}
