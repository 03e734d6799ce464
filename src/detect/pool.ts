/**
 * Detection off the event loop: a small pool of worker threads for requests whose texts are large
 * (256 KiB in all by default). Why: detection is linear, but a 7 MB body still takes a few hundred
 * milliseconds, and on the gateway's one thread every other request would wait that long. Smaller
 * requests run here at once: handing them to a thread costs more than detecting them.
 *
 * Detectors cannot cross threads (they are closures); the pool sends the plain options they are
 * built from (classes, custom classes, region) and each worker rebuilds and keeps them. The worker
 * is the built file dist/detect/detect-worker.js (or dist/bundle/detect-worker.js beside the CLI
 * bundle); run from the TypeScript sources (tests), the pool starts the built one, since Node 20
 * does not run .ts files.
 */
import { Worker } from "node:worker_threads";
import { detectAcross as detectAcrossHere } from "./across.js";
import type { DetectJob } from "./detect-worker.js";
import { type DetectOptions, detectorSets } from "./redact.js";
import { type Entity, TooManyValues } from "./types.js";

export interface DetectPoolOptions {
  /** Worker threads (default 1: the gateway's other work keeps the remaining cores busy). */
  size?: number;
  /** Requests whose texts hold at least this many UTF-16 units in all go to a worker (default 256 KiB). */
  offThreadAt?: number;
  /**
   * Past this many values in one request, reject with TooManyValues instead of returning them: a
   * copy of 10^5 entities back across threads stalls the caller as long as detecting did.
   */
  maxValues?: number;
  /** The worker's file, when not the built one beside this module. */
  workerUrl?: URL;
  /**
   * Heap limit of each worker in MB (default 1024): a request whose detection outgrows it kills
   * that worker, its requests are rejected (fail closed) and the next request starts a fresh one.
   */
  maxHeapMb?: number;
}

export interface DetectPool {
  /** detectAcross() over one request's texts: entities per text, in original offsets. */
  detectAcross(texts: readonly string[], options?: DetectOptions): Promise<Entity[][]>;
  /** Stop the workers; pending requests are rejected. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (v: Entity[][]) => void;
  reject: (e: Error) => void;
}
interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/detect/detect-worker.js", here) : new URL("./detect-worker.js", here);
}

export function createDetectPool(o: DetectPoolOptions = {}): DetectPool {
  const size = Math.max(1, o.size ?? 1);
  const offThreadAt = o.offThreadAt ?? 256 * 1024;
  const url = o.workerUrl ?? defaultWorkerUrl();
  const threads: (Thread | undefined)[] = [];
  const here = detectorSets();
  let nextId = 0;
  let closed = false;

  const start = (slot: number): Thread => {
    const t: Thread = { worker: new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 1024 } }), pending: new Map() };
    const fail = (e: Error) => {
      if (threads[slot] === t) threads[slot] = undefined; // the next request starts a fresh one
      for (const p of t.pending.values()) p.reject(e);
      t.pending.clear();
    };
    t.worker.on("message", (m: { id: number; entities?: Entity[][]; error?: string; tooMany?: number }) => {
      const p = t.pending.get(m.id);
      t.pending.delete(m.id);
      if (!p) return;
      if (m.tooMany !== undefined) p.reject(new TooManyValues(m.tooMany));
      else if (m.entities) p.resolve(m.entities);
      else p.reject(new Error(`detection worker: ${m.error ?? "no result"}`));
    });
    t.worker.on("error", fail);
    t.worker.on("exit", (code) => fail(new Error(`detection worker exited (code ${code})`)));
    t.worker.unref(); // an idle pool does not keep the process alive
    threads[slot] = t;
    return t;
  };

  /** The thread with the fewest requests in flight (started on first use). */
  const pick = (): Thread => {
    let best: Thread | undefined;
    for (let i = 0; i < size; i++) {
      const t = threads[i] ?? start(i);
      if (!best || t.pending.size < best.pending.size) best = t;
    }
    return best as Thread;
  };

  return {
    detectAcross(texts, options = {}) {
      if (closed) return Promise.reject(new Error("detection pool is closed"));
      let total = 0;
      for (const t of texts) total += t.length;
      if (total < offThreadAt) {
        try {
          return Promise.resolve(detectAcrossHere(texts, here(options)));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      const t = pick();
      const id = nextId++;
      return new Promise<Entity[][]>((resolve, reject) => {
        t.pending.set(id, { resolve, reject });
        t.worker.ref(); // keep the process alive while a request waits on it
        t.worker.postMessage({ id, texts: [...texts], options, ...(o.maxValues !== undefined ? { maxValues: o.maxValues } : {}) } satisfies DetectJob);
      }).finally(() => {
        if (t.pending.size === 0) t.worker.unref();
      });
    },
    async close() {
      closed = true;
      await Promise.all(threads.map((t) => t?.worker.terminate()));
    },
  };
}
