/**
 * SHA-256 of many files on all cores: the main thread (once it has parsed everything, via
 * `drainOnMainThread`) and cores − 1 worker threads (spawned early with `warm`, since a worker takes
 * ~75 ms to boot here) each stream a file through a 64 KiB buffer (small enough to stay in the
 * CPU cache between read and hash: 1.6× faster than 8 MiB here)
 * (memory independent of file size) while the main thread parses. Small files are hashed inline.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const crypto = require("node:crypto");
const buf = Buffer.allocUnsafe(64 << 10);
parentPort.on("message", ({ id, path }) => {
  let fd;
  try {
    fd = fs.openSync(path, "r");
    const h = crypto.createHash("sha256");
    let n, size = 0;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) { h.update(buf.subarray(0, n)); size += n; }
    parentPort.postMessage({ id, sha256: h.digest("hex"), size });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});`;

const INLINE_LIMIT = 1 << 20;

export function hashFileSync(path: string): { sha256: string; size: number } {
  const fd = openSync(path, "r");
  try {
    const h = createHash("sha256");
    const buf = Buffer.allocUnsafe(64 << 10);
    let size = 0;
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      h.update(buf.subarray(0, n));
      size += n;
    }
    return { sha256: h.digest("hex"), size };
  } finally {
    closeSync(fd);
  }
}

export class HashPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: { path: string; resolve: (v: { sha256: string; size: number }) => void; reject: (e: Error) => void }[] = [];
  private pending = new Map<number, { resolve: (v: { sha256: string; size: number }) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 0;

  /** `size` workers; by default one per core but one, the main thread being the last hasher. */
  constructor(private readonly size = Math.max(1, availableParallelism() - 1)) {}

  /** Start the workers now, so they boot while the caller loads and walks. */
  warm(): this {
    while (this.workers.length < this.size) this.idle.push(this.spawn());
    return this;
  }

  /**
   * Hash queued files on the main thread until the queue is empty, yielding to the event loop every
   * 16 MiB so that a worker that finishes is handed its next file at once (workers keep taking jobs).
   */
  async drainOnMainThread(): Promise<void> {
    const buf = Buffer.allocUnsafe(64 << 10);
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      let fd: number | undefined;
      try {
        fd = openSync(job.path, "r");
        const h = createHash("sha256");
        let size = 0;
        for (;;) {
          let n = 0;
          for (let i = 0; i < 256; i++) {
            n = readSync(fd, buf, 0, buf.length, null);
            if (n <= 0) break;
            h.update(n === buf.length ? buf : buf.subarray(0, n));
            size += n;
          }
          if (n <= 0) break;
          await new Promise((r) => setImmediate(r));
        }
        job.resolve({ sha256: h.digest("hex"), size });
      } catch (e) {
        job.reject(e as Error);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
  }

  /**
   * Queue every file, largest first (the longest hashes start at once and the pool stays busy);
   * the promises by key. Early failures are not "unhandled": the caller awaits each one.
   */
  hashAll<K>(files: readonly { key: K; abs: string; size: number }[], onDone?: (size: number) => void): Map<K, Promise<{ sha256: string; size: number }>> {
    const out = new Map<K, Promise<{ sha256: string; size: number }>>();
    for (const f of [...files].sort((a, b) => b.size - a.size)) {
      const p = this.hash(f.abs, f.size).then((h) => {
        onDone?.(f.size);
        return h;
      });
      p.catch(() => undefined);
      out.set(f.key, p);
    }
    return out;
  }

  hash(path: string, knownSize: number): Promise<{ sha256: string; size: number }> {
    if (knownSize <= INLINE_LIMIT) {
      try {
        return Promise.resolve(hashFileSync(path));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ path, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let w = this.idle.pop();
      if (!w && this.workers.length < this.size) w = this.spawn();
      if (!w) return;
      const job = this.queue.shift() as (typeof this.queue)[number];
      const id = this.nextId++;
      this.pending.set(id, { resolve: job.resolve, reject: job.reject, worker: w });
      w.postMessage({ id, path: job.path });
    }
  }

  private spawn(): Worker {
    const w = new Worker(WORKER, { eval: true });
    w.on("message", (m: { id: number; sha256?: string; size?: number; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      this.idle.push(w);
      if (p) {
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve({ sha256: m.sha256 as string, size: m.size as number });
      }
      this.pump();
    });
    w.on("error", (e) => {
      for (const [id, p] of this.pending)
        if (p.worker === w) {
          this.pending.delete(id);
          p.reject(e);
        }
    });
    this.workers.push(w);
    return w;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
    this.idle = [];
  }
}
