/** A token bucket refilled continuously at a per-minute rate. Owns time (performance.now). */
import { sleep } from "./duration.js";

/** `take` waits until `amount` is available; `tryTake` answers at once. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly perMinute: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }
  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perMinute) / 60000);
    this.last = now;
  }
  async take(amount: number, signal?: AbortSignal): Promise<void> {
    const want = Math.min(amount, this.capacity);
    for (;;) {
      this.refill();
      if (this.tokens >= want) {
        this.tokens -= want;
        return;
      }
      const waitMs = ((want - this.tokens) * 60000) / this.perMinute;
      await sleep(Math.max(1, Math.ceil(waitMs)), signal);
    }
  }
  /** Take now if available (for servers that answer 429 rather than wait); else the ms until it would be. */
  tryTake(amount: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const want = Math.min(amount, this.capacity);
    this.refill();
    if (this.tokens >= want) {
      this.tokens -= want;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((want - this.tokens) * 60000) / this.perMinute) };
  }
  /** Settle the difference between an estimate taken up front and what was really used. */
  adjust(delta: number): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens - delta);
  }
}
