/**
 * The shadow queues: one lane per shadow deployment with its own concurrency and requests-per-minute
 * limit (deployment `shadow: { concurrency, rpm }`). The route's bound on waiting jobs (`maxQueue`)
 * is kept by the gateway (traffic.ts), which hears when each job leaves its queue.
 */
import { TokenBucket } from "../../util/token-bucket.js";
import type { Deployment } from "../config.js";

export type Job = () => Promise<void>;

class Lane {
  private active = 0;
  private readonly waiting: { job: Job; release: () => void }[] = [];
  private readonly bucket: TokenBucket | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly running = new Set<Promise<void>>();

  constructor(
    private readonly concurrency: number,
    rpm: number | undefined,
  ) {
    this.bucket = rpm ? new TokenBucket(rpm, Math.max(1, Math.min(rpm, concurrency))) : undefined;
  }

  push(job: Job, release: () => void): void {
    this.waiting.push({ job, release });
    this.pump();
  }

  get pending(): number {
    return this.waiting.length;
  }

  /** Jobs not yet started are forgotten (their pairs stay incomplete); returns how many. */
  clear(): number {
    const n = this.waiting.length;
    for (const w of this.waiting.splice(0)) w.release();
    clearTimeout(this.timer);
    return n;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length > 0 && this.timer === undefined) {
      const t = this.bucket?.tryTake(1);
      if (t && !t.ok) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, t.retryAfterMs);
        this.timer.unref();
        return;
      }
      const next = this.waiting.shift() as { job: Job; release: () => void };
      next.release();
      this.active++;
      const p = next.job().finally(() => {
        this.active--;
        this.running.delete(p);
        this.pump();
      });
      this.running.add(p);
    }
  }
}

export class ShadowLanes {
  private readonly lanes = new Map<string, Lane>();

  /** Queue a job on its deployment's lane. */
  push(d: Deployment, job: Job): void {
    let lane = this.lanes.get(d.id);
    if (!lane) {
      lane = new Lane(d.shadow.concurrency, d.shadow.rpm);
      this.lanes.set(d.id, lane);
    }
    lane.push(job, () => {});
  }

  /** Let the queues drain for at most `graceMs`, then drop what has not started; returns how many were dropped. */
  async close(graceMs: number): Promise<number> {
    const until = performance.now() + graceMs;
    const busy = () => [...this.lanes.values()].some((l) => l.running.size > 0 || l.pending > 0);
    while (busy() && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    let dropped = 0;
    for (const l of this.lanes.values()) dropped += l.clear();
    return dropped;
  }
}
