/**
 * Per-key limits and metering: requests per minute and tokens per minute as token buckets (tokens
 * estimated from the request, then settled with the metered usage), and a USD budget compared with
 * what the key has spent (read from the audit trail once, then kept up to date here).
 */
import { sql } from "kysely";
import type { GatewayKey } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { TokenBucket } from "../util/token-bucket.js";

interface KeyState {
  rpm?: TokenBucket;
  tpm?: TokenBucket;
  spentPusd: number;
}

export type Admission =
  | { ok: true; settle(usage: { prompt_tokens?: number; completion_tokens?: number } | undefined, costPusd: number | null): void }
  | { ok: false; message: string; retryAfterMs?: number };

export class Meter {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly store: StoreHandle) {}

  private async stateOf(k: GatewayKey): Promise<KeyState> {
    let s = this.keys.get(k.name);
    if (!s) {
      const spent = await this.store.db
        .selectFrom("gateway_audit")
        .select(sql<number | null>`sum(cost_pusd)`.as("s"))
        .where("key_name", "=", k.name)
        .executeTakeFirst();
      s = this.keys.get(k.name) ?? {
        ...(k.rpm ? { rpm: new TokenBucket(k.rpm, k.rpm) } : {}),
        ...(k.tpm ? { tpm: new TokenBucket(k.tpm, k.tpm) } : {}),
        spentPusd: Number(spent?.s ?? 0),
      };
      this.keys.set(k.name, s);
    }
    return s;
  }

  /** Admit one request of about `estTokens` tokens for key `k`, or say which limit it hit. */
  async admit(k: GatewayKey, estTokens: number): Promise<Admission> {
    const s = await this.stateOf(k);
    if (k.budgetUsd !== null && s.spentPusd / 1e12 >= k.budgetUsd)
      return { ok: false, message: `key "${k.name}" has spent its budget of $${k.budgetUsd} ($${(s.spentPusd / 1e12).toFixed(6)} metered)` };
    if (s.rpm) {
      const t = s.rpm.tryTake(1);
      if (!t.ok) return { ok: false, message: `key "${k.name}" is limited to ${k.rpm} requests per minute`, retryAfterMs: t.retryAfterMs };
    }
    if (s.tpm) {
      const t = s.tpm.tryTake(estTokens);
      if (!t.ok) return { ok: false, message: `key "${k.name}" is limited to ${k.tpm} tokens per minute`, retryAfterMs: t.retryAfterMs };
    }
    // The bucket takes at most its capacity: settle against what it took, or a request larger than
    // the bucket would be refunded the difference and its real usage never owed.
    const taken = k.tpm ? Math.min(estTokens, k.tpm) : estTokens;
    return {
      ok: true,
      settle: (usage, cost) => {
        if (usage) s.tpm?.adjust((usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0) - taken);
        if (cost) s.spentPusd += cost;
      },
    };
  }
}
