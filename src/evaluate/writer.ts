/**
 * Group commit for results and cache entries. A finished request is written before it counts as
 * finished (so a resumed run never asks for it again), but requests that finish while a write is
 * under way are committed together in the next transaction instead of one statement each.
 */
import type { StoreHandle } from "../store/open.js";
import type { ResultRecord } from "../store/results.js";

interface Pending {
  result?: ResultRecord;
  cache?: { key: string; value: string };
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupWriter {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  constructor(private readonly store: StoreHandle) {}

  write(entry: { result?: ResultRecord; cache?: { key: string; value: string } }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...entry, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Let the requests that finish in the same turn of the event loop join this batch.
    await new Promise((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const results = batch.flatMap((p) => (p.result ? [p.result] : []));
        const cache = batch.flatMap((p) => (p.cache ? [p.cache] : []));
        await this.store.writeBatch(results, cache);
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    this.flushing = undefined;
  }
}
