/**
 * WAL checkpoints on a worker thread, for long-running writers (the gateway). SQLite otherwise
 * checkpoints inside the commit that crosses 1,000 WAL pages: at 1,000 audited requests a second that
 * is a 6–7 ms stall of the event loop (copying pages back and two fsyncs) every ~0.6 s, which every
 * request in flight waits out. Here the writer's connection never checkpoints; a second connection on
 * a worker runs PASSIVE checkpoints (they never block the writer) every `everyMs`. If the worker
 * fails (or cannot start), the writer goes back to checkpointing itself. The worker's code is the
 * `checkpointer` role of sqlite-worker.ts.
 */
import type { StoreHandle } from "./open.js";
import { sqliteThread } from "./sqlite-thread.js";

export interface Checkpointer {
  close(): Promise<void>;
}

/** Start background checkpoints for a SQLite store (undefined for PostgreSQL). */
export function startCheckpointer(store: StoreHandle, everyMs = 250): Checkpointer | undefined {
  const raw = store.sqlite;
  if (!raw) return undefined;
  const worker = sqliteThread(store, { role: "checkpointer", everyMs });
  raw.pragma("wal_autocheckpoint = 0");
  /** The writer checkpoints itself again (SQLite's default threshold). */
  const selfCheckpoint = () => {
    if (raw.open) raw.pragma("wal_autocheckpoint = 1000");
  };
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  worker.on("error", selfCheckpoint);
  return {
    close: async () => {
      if (!exited) worker.postMessage("close");
      await exit;
      selfCheckpoint();
    },
  };
}
