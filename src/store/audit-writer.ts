/**
 * Durable audit rows for the gateway: each row's promise resolves only once the row is committed
 * (the gateway answers after that), so after kill -9 every answered request has its row. Rows that
 * arrive in one turn of the event loop are committed together (group commit), through the store's
 * one write path (write.ts).
 *
 * On SQLite the commits run on a worker thread with its own connection (sqlite-worker.ts, the same
 * statements as the calling thread's path): inserting and committing cost the gateway's event loop
 * ~50 µs a request (a fifth of its work at 1,000 req/s), which every request queued behind it waited
 * out. The loop now only hands over each turn's rows. If the worker fails, its unacknowledged rows
 * and all later ones are written on the calling thread instead (a row the worker committed just
 * before it failed is not written twice: ids are keys and rows whose id is taken are skipped).
 *
 * Other rows that must be as durable as the audit row (a shadow pair's primary half, captured
 * traffic: store/shadow.ts) ride in the same commits (`writeRows`).
 */
import type { Worker } from "node:worker_threads";
import type { AuditRow } from "../records/index.js";
import { auditValues } from "./gateway.js";
import type { StoreHandle } from "./open.js";
import type { GatewayAuditTable } from "./schema.js";
import { encodeWrites } from "./sqlite-rows.js";
import { sqliteThread } from "./sqlite-thread.js";
import type { WriterReply, WriterRequest } from "./sqlite-worker.js";
import type { RowWrite } from "./write.js";

interface Pending {
  rows: GatewayAuditTable[];
  /** Other tables' rows committed with them. */
  extra: RowWrite[];
  done: ((e?: Error) => void)[];
}

export interface AuditWriter {
  write(a: AuditRow): Promise<void>;
  /** Commit other tables' rows in the same commits as the audit rows; resolves once committed. */
  writeRows(writes: readonly RowWrite[]): Promise<void>;
  /** Wait for rows handed over, then stop the worker. */
  close(): Promise<void>;
  /** The thread that commits (undefined when rows are written on the calling thread). */
  readonly thread: Worker | undefined;
}

const auditWrite = (p: Pick<Pending, "rows" | "extra">): RowWrite[] => [
  ...(p.rows.length ? [{ table: "gateway_audit" as const, rows: p.rows, conflict: "ignore" as const }] : []),
  ...p.extra,
];
const settle = (p: Pending, err?: Error) => {
  for (const d of p.done) d(err);
};

export function auditWriter(store: StoreHandle, o: { worker?: boolean } = {}): AuditWriter {
  const here = new Set<Promise<void>>();
  const commitHere = (p: Pending) => {
    const done = store.write(auditWrite(p)).then(
      () => settle(p),
      (e: Error) => settle(p, e),
    );
    here.add(done);
    void done.finally(() => here.delete(done));
  };

  let worker: Worker | undefined;
  let exited: Promise<void> = Promise.resolve();
  const inFlight = new Map<number, Pending>();
  let nextId = 0;
  /** The worker is gone: what it did not acknowledge is written here, and so is everything after. */
  const fallBack = () => {
    if (!worker) return;
    worker = undefined;
    for (const p of inFlight.values()) commitHere(p);
    inFlight.clear();
  };
  const raw = store.sqlite;
  const onDisk = store.url !== "" && store.url !== ":memory:" && !store.url.startsWith("file::memory:");
  if (raw && o.worker !== false && onDisk) {
    const w = sqliteThread(store, { role: "writer", autocheckpoint: Number(raw.pragma("wal_autocheckpoint", { simple: true })) });
    worker = w;
    w.on("message", (m: WriterReply) => {
      const p = inFlight.get(m.id);
      if (!p) return;
      inFlight.delete(m.id);
      settle(p, m.error === undefined ? undefined : new Error(`audit write failed: ${m.error}`));
    });
    w.on("error", fallBack);
    exited = new Promise((resolve) =>
      w.once("exit", () => {
        fallBack();
        resolve();
      }),
    );
    w.unref();
  }

  let queue: Pending = { rows: [], extra: [], done: [] };
  const flush = () => {
    const batch = queue;
    queue = { rows: [], extra: [], done: [] };
    if (!worker) return commitHere(batch);
    const id = nextId++;
    inFlight.set(id, batch);
    worker.postMessage({ id, writes: encodeWrites(auditWrite(batch)) } satisfies WriterRequest);
  };
  const enqueue = (add: (q: Pending) => void) =>
    new Promise<void>((resolve, reject) => {
      if (queue.done.length === 0) setImmediate(flush);
      add(queue);
      queue.done.push((e) => (e === undefined ? resolve() : reject(e)));
    });
  return {
    write: (a) => enqueue((q) => q.rows.push(auditValues(a))),
    writeRows: (writes) => enqueue((q) => q.extra.push(...writes)),
    get thread() {
      return worker;
    },
    close: async () => {
      if (queue.done.length) flush();
      while (inFlight.size > 0 && worker) await new Promise((r) => setTimeout(r, 5));
      worker?.postMessage("close" satisfies WriterRequest);
      await exited;
      await Promise.allSettled([...here]);
    },
  };
}
