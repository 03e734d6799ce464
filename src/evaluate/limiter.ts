/** Per-model limits: concurrency, requests per minute and tokens per minute. Owns time. */
import { TokenBucket } from "../util/token-bucket.js";

export { TokenBucket };

export class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;
  constructor(private readonly limit: number) {}
  /** Take a slot now if one is free (no await, no microtask). */
  tryAcquire(): boolean {
    if (this.active < this.limit) {
      this.active++;
      return true;
    }
    return false;
  }
  acquire(): Promise<void> | undefined {
    if (this.tryAcquire()) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

export interface LimitsConfig {
  concurrency: number;
  rpm?: number;
  tpm?: number;
}

export class ModelLimiter {
  readonly slots: Semaphore;
  private readonly rpm?: TokenBucket;
  private readonly tpm?: TokenBucket;
  constructor(readonly limits: LimitsConfig) {
    this.slots = new Semaphore(limits.concurrency);
    // A few seconds' worth of burst, so a fresh run does not fire a whole minute's quota at once.
    if (limits.rpm) this.rpm = new TokenBucket(limits.rpm, Math.max(1, Math.ceil(limits.rpm / 10)));
    if (limits.tpm) this.tpm = new TokenBucket(limits.tpm, Math.max(1, Math.ceil(limits.tpm / 4)));
  }
  /** Whether requests must wait for an rpm/tpm budget at all. */
  get paced(): boolean {
    return this.rpm !== undefined || this.tpm !== undefined;
  }
  /** Wait for request and token budget before sending one request. */
  async admit(estimatedTokens: number, signal?: AbortSignal): Promise<void> {
    if (this.rpm) await this.rpm.take(1, signal);
    if (this.tpm) await this.tpm.take(estimatedTokens, signal);
  }
  settle(estimatedTokens: number, actualTokens: number): void {
    this.tpm?.adjust(actualTokens - estimatedTokens);
  }
}
