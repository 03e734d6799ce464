/**
 * The recorder: what the runner keeps of each attempt. A case's result row (and a conversation's
 * turns) go to the store through the group writer; a result counts as finished — for progress, for
 * `keep` and for resume — only once it is committed. It also keeps the run's counters.
 */
import type { ResultRecord, TurnRecord } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { GroupWriter } from "./writer.js";

type CacheEntry = { key: string; value: string };

export class Recorder {
  readonly writer: GroupWriter;
  finished: number;
  requested = 0;
  cached = 0;
  errors = 0;
  /** The first commit failure; the scheduler stops on it. */
  fatal: unknown;
  private readonly commits = new Set<Promise<void>>();

  constructor(
    store: StoreHandle,
    private readonly total: number,
    skipped: number,
    private readonly keep?: ResultRecord[],
    private readonly onProgress?: (done: number, total: number) => void,
  ) {
    this.writer = new GroupWriter(store);
    this.finished = skipped;
    onProgress?.(this.finished, total);
  }

  /** The next request need not wait for this commit; the case counts as finished once it is in. */
  result(record: ResultRecord, cacheEntry?: CacheEntry): void {
    const commit = this.writer.write({ result: record, ...(cacheEntry ? { cache: cacheEntry } : {}) }).then(
      () => {
        this.finished++;
        this.keep?.push(record);
        this.onProgress?.(this.finished, this.total);
      },
      (e: unknown) => {
        this.fatal ??= e;
      },
    );
    this.commits.add(commit);
    void commit.finally(() => this.commits.delete(commit));
  }

  /** A conversation's turn, awaited: the next turn is sent only once this one would survive a kill. */
  turn(turn: TurnRecord, cacheEntry?: CacheEntry): Promise<void> {
    return this.writer.write({ turn, ...(cacheEntry ? { cache: cacheEntry } : {}) });
  }

  cache(entry: CacheEntry): Promise<void> {
    return this.writer.write({ cache: entry });
  }

  /** Commit everything; a failure becomes `fatal`. */
  async drain(): Promise<void> {
    await this.writer.drain().catch((e: unknown) => {
      this.fatal ??= e;
    });
    await Promise.all(this.commits);
  }
}
