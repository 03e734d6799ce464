/**
 * The store's worker thread, a file of its own so that it is type-checked and built like the rest
 * (a bundle entry in scripts/bundle.mjs, dist/store/ under tsc); sqlite-thread.ts starts it. It opens
 * its own connection to the store's file (busy_timeout 5 s) and plays one role:
 * - `writer` (the gateway's audit writer): commits each batch of encoded writes with the same applier
 *   the calling thread uses (sqlite-rows.ts) and acknowledges it, with the commit's error if any;
 * - `checkpointer`: runs PASSIVE WAL checkpoints (they never block the writer) every `everyMs`;
 * - `search-index` (the UI server): indexes one run's texts for search (search-index.ts), posting
 *   `{ done }` after each batch, then `{ indexed }` or `{ error }`, and ends.
 * "close" ends the first two roles after their last commit or checkpoint.
 */
import { parentPort, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { indexRunTexts } from "./search-index.js";
import { type EncodedWrite, sqliteApplier } from "./sqlite-rows.js";

export type SqliteWorkerRole =
  | { role: "writer"; autocheckpoint: number }
  | { role: "checkpointer"; everyMs: number }
  | { role: "search-index"; runId: string; fingerprint: string; batch: number };
export type SearchIndexMessage = { done: number } | { indexed: number } | { error: string };
export type SqliteWorkerData = { file: string } & SqliteWorkerRole;
export type WriterRequest = { id: number; writes: EncodedWrite[] } | "close";
export interface WriterReply {
  id: number;
  error?: string;
}

function writer(db: BetterSqlite3.Database, port: NonNullable<typeof parentPort>, autocheckpoint: number): void {
  db.pragma("synchronous = NORMAL");
  db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.trunc(autocheckpoint))}`);
  const apply = sqliteApplier(db);
  port.on("message", (m: WriterRequest) => {
    if (m === "close") {
      db.close();
      port.close();
      return;
    }
    try {
      apply(m.writes);
      port.postMessage({ id: m.id } satisfies WriterReply);
    } catch (e) {
      port.postMessage({ id: m.id, error: String((e as Error)?.message ?? e) } satisfies WriterReply);
    }
  });
}

function checkpointer(db: BetterSqlite3.Database, port: NonNullable<typeof parentPort>, everyMs: number): void {
  const checkpoint = () => {
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // busy: the next tick tries again
    }
  };
  const timer = setInterval(checkpoint, everyMs);
  port.on("message", (m: unknown) => {
    if (m !== "close") return;
    clearInterval(timer);
    checkpoint();
    db.close();
    port.close();
  });
}

const port = parentPort;
if (!port) throw new Error("sqlite-worker.ts runs as a worker thread (started by sqlite-thread.ts)");
const data = workerData as SqliteWorkerData;
const db = new BetterSqlite3(data.file);
db.pragma("busy_timeout = 5000");
if (data.role === "writer") writer(db, port, data.autocheckpoint);
else if (data.role === "checkpointer") checkpointer(db, port, data.everyMs);
else {
  const post = (m: SearchIndexMessage) => port.postMessage(m);
  try {
    post({ indexed: indexRunTexts(db, data.runId, data.fingerprint, data.batch, (done) => post({ done })) });
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
  } finally {
    db.close();
    port.close();
  }
}
