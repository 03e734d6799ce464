/**
 * The store's worker thread as built (npm run build): the tsc output the sources' tests use and the
 * bundle entry the CLI starts (dist/bundle/sqlite-worker.js, beside the CLI's chunks). Each must load
 * on its own, commit what it is sent with the definitions' statements, acknowledge it, and stop on
 * "close". A worker that failed to load would go unnoticed elsewhere: the callers fall back to their
 * own thread.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { createRun } from "../../src/store/runs.js";
import { encodeWrites } from "../../src/store/sqlite-rows.js";
import { sqliteWorkerUrl } from "../../src/store/sqlite-thread.js";
import type { WriterReply } from "../../src/store/sqlite-worker.js";
import { tempDir } from "../support/project.js";

const ROOT = join(import.meta.dirname, "../..");
const BUILT = [
  ["tsc output", sqliteWorkerUrl()],
  ["bundle entry", new URL(`file://${join(ROOT, "dist/bundle/sqlite-worker.js")}`)],
] as const;

describe.each(BUILT)("sqlite worker (%s)", (_name, url) => {
  it("commits a batch, acknowledges it, and exits on close", async () => {
    expect(existsSync(url), `${url.pathname}: run npm run build`).toBe(true);
    const file = join(tempDir(), "wb.db");
    const store = await openStore(file);
    await createRun(store.db, { id: "r1", kind: "bench", configPath: "/x.yaml", plan: {} });
    const w = new Worker(url, { workerData: { role: "writer", autocheckpoint: 1000, file } });
    const reply = new Promise<WriterReply>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    const writes = encodeWrites([{ table: "bench_levels", rows: [{ run_id: "r1", concurrency: 4, metrics_json: '{"ok":1}' }], conflict: "update" }]);
    w.postMessage({ id: 7, writes });
    expect(await reply).toEqual({ id: 7 });
    expect(await store.db.selectFrom("bench_levels").select("metrics_json").execute()).toEqual([{ metrics_json: '{"ok":1}' }]);
    const exit = new Promise<number>((resolve) => w.once("exit", resolve));
    w.postMessage("close");
    expect(await exit).toBe(0);
    await store.close();
  });
});
