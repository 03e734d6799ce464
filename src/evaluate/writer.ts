/**
 * Group commit for results and cache entries. A finished request counts as finished only once its
 * row is committed (so a resumed run never asks for it again, and a killed one asks again only for
 * what was not yet committed), but rows are committed in groups: a SQLite commit costs ~40 µs and a
 * row ~4 µs here, so one transaction per row would be most of the runner's store time. A group is
 * committed when it reaches MAX_GROUP rows or MAX_DELAY_MS after its first row, whichever is first.
 */
import type { ResultRecord, TurnRecord } from "../records/index.js";
import { resultAndCacheWrites, type StoreHandle, turnWrites } from "../store/index.js";

interface Pending {
  result?: ResultRecord;
  turn?: TurnRecord;
  cache?: { key: string; value: string };
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MAX_GROUP = 64;
const MAX_DELAY_MS = 10;

export class GroupWriter {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  constructor(private readonly store: StoreHandle) {}

  /** Resolves once the entry is committed. */
  write(entry: { result?: ResultRecord; turn?: TurnRecord; cache?: { key: string; value: string } }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...entry, resolve, reject });
      if (this.pending.length >= MAX_GROUP) this.flushSoon(0);
      else this.flushSoon(MAX_DELAY_MS);
    });
  }

  /** Commit everything written so far. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.flushing) return; // the running flush picks up what arrives meanwhile
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing ??= (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const results = batch.flatMap((p) => (p.result ? [p.result] : []));
          const cache = batch.flatMap((p) => (p.cache ? [p.cache] : []));
          const turns = batch.flatMap((p) => (p.turn ? [p.turn] : []));
          // Conversations' turns join the same transaction; runs without them keep the hot path as it was.
          if (turns.length) await this.store.write([...turnWrites(turns), ...resultAndCacheWrites(results, cache)]);
          else await this.store.writeBatch(results, cache);
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
      this.flushing = undefined;
    })();
    return this.flushing;
  }
}
