/**
 * Durable audit rows for the gateway: each row's promise resolves only once the row is committed
 * (the gateway answers after that), so after kill -9 every answered request has its row. Rows that
 * arrive in one turn of the event loop are committed together (group commit).
 *
 * On SQLite the commits run on a worker thread with its own connection: inserting and committing
 * cost the gateway's event loop ~50 µs a request (a fifth of its work at 1,000 req/s), which every
 * request queued behind it waited out. The loop now only hands over each turn's rows. If the worker
 * fails, its unacknowledged rows and all later ones are written on the calling thread instead.
 *
 * Other rows that must be as durable as the audit row (a shadow pair's primary half, captured
 * traffic; shadow.ts) ride in the same commits as named statements (`writeStatements`).
 */
import type { Worker } from "node:worker_threads";
import { CompiledQuery } from "kysely";
import { type AuditRow, auditValues } from "./gateway.js";
import type { StoreHandle } from "./open.js";
import type { GatewayAuditTable } from "./schema.js";
import { EXTRA_STATEMENTS, type ExtraStatement } from "./shadow.js";
import { sqliteWorker } from "./sqlite-worker.js";

const AUDIT_COLUMNS: (keyof GatewayAuditTable)[] = [
  "id",
  "time",
  "key_name",
  "route",
  "deployment",
  "classes_json",
  "response_classes_json",
  "action",
  "status",
  "input_tokens",
  "output_tokens",
  "cost_pusd",
  "latency_ms",
  "body",
  "upstream_sha256",
  "attempts_json",
];
const INSERT = `INSERT INTO gateway_audit (${AUDIT_COLUMNS.join(", ")}) VALUES (${AUDIT_COLUMNS.map(() => "?").join(", ")})`;

const WORKER = `
db.pragma("synchronous = NORMAL");
db.pragma("wal_autocheckpoint = " + workerData.autocheckpoint);
const stmts = {};
for (const [name, text] of Object.entries(workerData.statements)) stmts[name] = db.prepare(text);
const writeAll = db.transaction((rows) => { for (const [name, values] of rows) stmts[name].run(values); });
parentPort.on("message", (m) => {
  if (m === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    writeAll(m.rows);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});`;

type Values = unknown[];
/** A statement's name (`audit` or one of EXTRA_STATEMENTS) and its values. */
type Item = [string, Values];
interface Pending {
  rows: Item[];
  done: ((e?: Error) => void)[];
}

export interface AuditWriter {
  write(a: AuditRow): Promise<void>;
  /** Commit other rows with the same durability (resolves once committed). */
  writeStatements(items: readonly ExtraStatement[]): Promise<void>;
  /** Wait for rows handed over, then stop the worker. */
  close(): Promise<void>;
  /** The thread that commits (undefined when rows are written on the calling thread). */
  readonly thread: Worker | undefined;
}

const valuesOf = (a: AuditRow): Values => {
  const r = auditValues(a);
  return AUDIT_COLUMNS.map((c) => r[c] ?? null);
};

export function auditWriter(store: StoreHandle, o: { worker?: boolean } = {}): AuditWriter {
  const raw = store.sqlite;
  if (!raw)
    return {
      write: async (a) => {
        await store.db.insertInto("gateway_audit").values(auditValues(a)).execute();
      },
      writeStatements: async (items) => {
        await store.db.transaction().execute(async (tx) => {
          for (const it of items) {
            let n = 0;
            await tx.executeQuery(
              CompiledQuery.raw(
                EXTRA_STATEMENTS[it.stmt].replace(/\?/g, () => `$${++n}`),
                it.values,
              ),
            );
          }
        });
      },
      close: async () => {},
      thread: undefined,
    };
  // OR IGNORE: a batch the worker committed just before it failed may be written here again (ids are unique).
  const statements: Record<string, string> = { ...EXTRA_STATEMENTS, audit: INSERT };
  const here: Record<string, import("better-sqlite3").Statement> = Object.fromEntries(
    Object.entries({ ...statements, audit: INSERT.replace("INSERT INTO", "INSERT OR IGNORE INTO") }).map(([k, v]) => [k, raw.prepare(v)]),
  );
  const writeHere = raw.transaction((rows: Item[]) => {
    for (const [name, values] of rows) here[name]?.run(values);
  });
  const commitHere = (p: Pending) => {
    let err: Error | undefined;
    try {
      writeHere(p.rows);
    } catch (e) {
      err = e as Error;
    }
    for (const d of p.done) d(err);
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
  const onDisk = store.url !== "" && store.url !== ":memory:" && !store.url.startsWith("file::memory:");
  if (o.worker !== false && onDisk) {
    const w = sqliteWorker(store, WORKER, { statements, autocheckpoint: Number(raw.pragma("wal_autocheckpoint", { simple: true })) });
    worker = w;
    w.on("message", (m: { id: number; error?: string }) => {
      const p = inFlight.get(m.id);
      if (!p) return;
      inFlight.delete(m.id);
      const err = m.error === undefined ? undefined : new Error(`audit write failed: ${m.error}`);
      for (const d of p.done) d(err);
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

  let queue: Pending = { rows: [], done: [] };
  const flush = () => {
    const batch = queue;
    queue = { rows: [], done: [] };
    if (!worker) return commitHere(batch);
    const id = nextId++;
    inFlight.set(id, batch);
    worker.postMessage({ id, rows: batch.rows });
  };
  const enqueue = (items: Item[]) =>
    new Promise<void>((resolve, reject) => {
      if (queue.rows.length === 0) setImmediate(flush);
      queue.rows.push(...items);
      queue.done.push((e) => (e === undefined ? resolve() : reject(e)));
    });
  return {
    write: (a) => enqueue([["audit", valuesOf(a)]]),
    writeStatements: (items) => enqueue(items.map((it) => [it.stmt, it.values])),
    get thread() {
      return worker;
    },
    close: async () => {
      if (queue.rows.length) flush();
      while (inFlight.size > 0 && worker) await new Promise((r) => setTimeout(r, 5));
      worker?.postMessage("close");
      await exited;
    },
  };
}
