/** Retries with exponential backoff and jitter, honouring Retry-After. */
import { ProviderError } from "../providers/index.js";
import { sleep } from "../util/duration.js";

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before retry number `attempt` (1-based): Retry-After when the server gave one, else "equal jitter". */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number, rand: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs * 4, Math.max(0, retryAfterMs));
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + (rand() * exp) / 2;
}

export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
  onRetry?: (err: ProviderError, attempt: number, delayMs: number) => void,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      if (!(e instanceof ProviderError) || !e.retryable || attempt > policy.retries) {
        if (e instanceof ProviderError) (e as ProviderError & { attempts?: number }).attempts = attempt;
        throw e;
      }
      const delay = backoffDelay(attempt, policy, e.retryAfterMs);
      onRetry?.(e, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
