/**
 * One model call with the run's limits, response cache and retries — for candidates, judges and
 * embedders alike. It owns the run's providers and per-model limiters; the scheduler decides what
 * to call and when, the attempt what to send. The cache key covers the upstream, the full message
 * list (tool calls and results included), the params and the tools offered.
 */
import type { ModelConfig } from "../config/index.js";
import type { ChatParams, ChatResponse, Message, Provider, ProviderError, ToolCall, ToolDefinition } from "../providers/index.js";
import { createProvider, defaultConcurrency } from "../providers/index.js";
import type { StoreHandle } from "../store/index.js";
import { cacheGet, cacheGetMany } from "../store/index.js";
import { parseDurationMs } from "../util/duration.js";
import { UserError } from "../util/errors.js";
import { sha256Hex, stableStringify } from "../util/hash.js";
import { GradeError } from "./graders/index.js";
import { ModelLimiter, Semaphore } from "./limiter.js";
import type { Plan, PlannedModel, PlannedSuite } from "./plan.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "./retry.js";

export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_MODEL_CONCURRENCY = 8;
export const DEFAULT_TIMEOUT_MS = 120_000;

/** A response as the cache and the turns table keep it. */
export interface CachedResponse {
  text: string;
  usage: ChatResponse["usage"];
  latencyMs: number;
  ttftMs?: number;
  finishReason: ChatResponse["finishReason"];
  toolCalls?: ToolCall[];
  simulated?: boolean;
}

export interface CallResult {
  res: CachedResponse;
  cached: boolean;
  attempts: number;
  /** A fresh response's cache entry, for the caller to commit with what it records. */
  cacheEntry?: { key: string; value: string };
}

export interface CallerOptions {
  plan: Plan;
  store: StoreHandle;
  concurrency?: number;
  noCache?: boolean;
  signal?: AbortSignal;
  onRetry?: (modelId: string, err: ProviderError, attempt: number, delayMs: number) => void;
  providerFactory?: (m: ModelConfig, connections: number) => Provider;
}

function mergeParams(...layers: (ChatParams | undefined)[]): ChatParams {
  const out: ChatParams = {};
  for (const l of layers) if (l) Object.assign(out, Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)));
  return out;
}

function estimateTokens(messages: Message[], params: ChatParams): number {
  return Math.ceil(messages.reduce((a, m) => a + m.content.length, 0) / 4) + (params.maxTokens ?? 256);
}

export class ModelCaller {
  readonly providers = new Map<string, Provider>();
  private readonly limiters = new Map<string, ModelLimiter>();
  private readonly timeouts = new Map<string, number>();
  private readonly params = new Map<string, ChatParams>();
  private readonly models: Map<string, PlannedModel>;
  private readonly globalCap: Semaphore;
  private hits = new Map<string, string>();

  constructor(private readonly o: CallerOptions) {
    this.globalCap = new Semaphore(o.concurrency ?? DEFAULT_CONCURRENCY);
    this.models = new Map([...o.plan.helpers, ...o.plan.models].map((m) => [m.config.id, m]));
    // Fail fast on configuration problems (missing API key env, missing GGUF) before any request.
    for (const m of [...o.plan.models, ...o.plan.helpers]) this.providerFor(m.config.id);
  }

  model(id: string): PlannedModel | undefined {
    return this.models.get(id);
  }

  providerFor(id: string): Provider {
    let p = this.providers.get(id);
    if (!p) {
      const m = this.models.get(id);
      if (!m) throw new UserError(`model "${id}" is not in the run's plan`);
      p = (this.o.providerFactory ?? createProvider)(m.config, this.o.concurrency ?? DEFAULT_CONCURRENCY);
      this.providers.set(id, p);
    }
    return p;
  }

  limiterFor(m: ModelConfig): ModelLimiter {
    let l = this.limiters.get(m.id);
    if (!l) {
      const concurrency = m.concurrency ?? defaultConcurrency(m, this.o.plan.defaults.concurrency ?? DEFAULT_MODEL_CONCURRENCY);
      l = new ModelLimiter({ concurrency, ...(m.rpm ? { rpm: m.rpm } : {}), ...(m.tpm ? { tpm: m.tpm } : {}) });
      this.limiters.set(m.id, l);
    }
    return l;
  }

  private timeoutFor(m: ModelConfig): number {
    let t = this.timeouts.get(m.id);
    if (t === undefined) {
      const of = (v: string | number | undefined) => (v === undefined ? undefined : parseDurationMs(v, "timeout"));
      t = of(m.timeout) ?? of(this.o.plan.defaults.timeout) ?? DEFAULT_TIMEOUT_MS;
      this.timeouts.set(m.id, t);
    }
    return t;
  }

  private retryFor(m: ModelConfig): RetryPolicy {
    return { ...DEFAULT_RETRY, retries: m.retries ?? this.o.plan.defaults.retries ?? DEFAULT_RETRY.retries };
  }

  paramsFor(suite: PlannedSuite, m: ModelConfig): ChatParams {
    const key = `${suite.name}\u0000${m.id}`;
    let p = this.params.get(key);
    if (!p) {
      p = mergeParams(this.o.plan.defaults.params, suite.params, m.params);
      this.params.set(key, p);
    }
    return p;
  }

  /** Tools join the key only when offered, so plain cases keep the keys they always had. */
  cacheKey(m: ModelConfig, messages: Message[], params: ChatParams, salt: string, tools?: readonly ToolDefinition[]): string {
    return sha256Hex(stableStringify({ upstream: this.providerFor(m.id).cacheIdentity, messages, params, salt, ...(tools?.length ? { tools } : {}) }));
  }

  /** Read the cache hits for these keys in one pass (the first request of every case, before the run starts). */
  async prefetch(keys: string[]): Promise<void> {
    if (!this.o.noCache) this.hits = await cacheGetMany(this.o.store.db, keys);
  }

  /** `lookup`: keys that were not prefetched (judges, later turns of a conversation) are read one by one. */
  async call(
    m: ModelConfig,
    messages: Message[],
    params: ChatParams,
    cacheSalt: string,
    opts: { tools?: readonly ToolDefinition[]; lookup?: boolean } = {},
  ): Promise<CallResult> {
    const { signal, noCache } = this.o;
    const key = noCache ? "" : this.cacheKey(m, messages, params, cacheSalt, opts.tools);
    if (!noCache) {
      const hit = this.hits.get(key) ?? (opts.lookup ? await cacheGet(this.o.store.db, key) : undefined);
      if (hit) return { res: JSON.parse(hit) as CachedResponse, cached: true, attempts: 0 };
    }
    const provider = this.providerFor(m.id);
    const limiter = this.limiterFor(m);
    const timeoutMs = this.timeoutFor(m);
    // Only a tpm budget needs the estimate; it is computed once per request, not per attempt.
    const est = limiter.paced ? estimateTokens(messages, params) : 0;
    // Free slots are taken synchronously; only a full limiter costs an await.
    const wait1 = limiter.slots.acquire();
    if (wait1) await wait1;
    const wait2 = this.globalCap.acquire();
    if (wait2) await wait2;
    const tools = opts.tools?.length ? { tools: [...opts.tools] } : {};
    try {
      const { value, attempts } = await withRetries(
        async () => {
          if (limiter.paced) await limiter.admit(est, signal);
          const r = await provider.chat({ messages, params, timeoutMs, ...tools, ...(signal ? { signal } : {}) });
          limiter.settle(est, r.usage.inputTokens + r.usage.outputTokens);
          return r;
        },
        this.retryFor(m),
        signal,
        (err, attempt, delay) => this.o.onRetry?.(m.id, err, attempt, delay),
      );
      const res: CachedResponse = {
        text: value.text,
        usage: value.usage,
        latencyMs: value.latencyMs,
        ...(value.ttftMs !== undefined ? { ttftMs: value.ttftMs } : {}),
        finishReason: value.finishReason,
        ...(value.toolCalls?.length ? { toolCalls: value.toolCalls } : {}),
        ...(value.simulated ? { simulated: true } : {}),
      };
      return { res, cached: false, attempts, ...(noCache ? {} : { cacheEntry: { key, value: JSON.stringify(res) } }) };
    } finally {
      this.globalCap.release();
      limiter.slots.release();
    }
  }

  /** A judge's verdict text; its fresh cache entry goes to `keep`. */
  async judge(model: string | undefined, messages: Message[], keep: (entry: { key: string; value: string }) => Promise<void>): Promise<string> {
    const id = model ?? this.o.plan.judge;
    const m = id ? this.models.get(id) : undefined;
    if (!m) throw new GradeError("llm-judge: no judge model configured");
    const r = await this.call(m.config, messages, { temperature: 0, maxTokens: 256 }, "judge", { lookup: true });
    if (r.cacheEntry) await keep(r.cacheEntry);
    return r.res.text;
  }

  async embed(model: string | undefined, texts: string[]): Promise<number[][]> {
    const id = model ?? this.o.plan.embedder;
    const p = id ? this.providerFor(id) : undefined;
    if (!p?.embed) throw new GradeError(`similarity: model ${id ?? "(none)"} has no embeddings endpoint`);
    return p.embed(texts, this.o.signal);
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close().catch(() => undefined)));
  }
}
