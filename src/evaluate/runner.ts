/**
 * The runner: schedules every (suite, case, model, repeat) of a plan with per-model limits and a
 * global cap, retries, the response cache, grading, and one durable row per finished request.
 * It owns time and concurrency; everything it calls is either a provider or a pure function.
 */
import { setMaxListeners } from "node:events";
import type { ModelConfig } from "../config/index.js";
import { costPusd } from "../economics/index.js";
import { closeAgents } from "../net/index.js";
import type { ChatParams, ChatResponse, Message, Provider } from "../providers/index.js";
import { createProvider, defaultConcurrency, ProviderError } from "../providers/index.js";
import type { ResultRecord } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { cacheGet, cacheGetMany, finishedKeys, mergeIntoPlan, resultKey } from "../store/index.js";
import { parseDurationMs } from "../util/duration.js";
import { errorMessage, UserError } from "../util/errors.js";
import { sha256Hex, stableStringify } from "../util/hash.js";
import { GradeError, gradeCase } from "./graders/index.js";
import { ModelLimiter, Semaphore } from "./limiter.js";
import type { Plan, PlannedCase, PlannedModel, PlannedSuite } from "./plan.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "./retry.js";
import { GroupWriter } from "./writer.js";

export interface RunOptions {
  store: StoreHandle;
  plan: Plan;
  runId: string;
  /** Most requests in flight across all models. */
  concurrency?: number;
  noCache?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  onRetry?: (modelId: string, err: ProviderError, attempt: number, delayMs: number) => void;
  /** Rows committed by this call are appended here (a fresh run's summary needs no read-back). */
  keep?: ResultRecord[];
  /** Replace provider construction (the tests' way to count requests is a real stub server instead). */
  providerFactory?: (m: ModelConfig, connections: number) => Provider;
}

export interface RunOutcome {
  runId: string;
  status: "completed" | "interrupted";
  total: number;
  skipped: number;
  requested: number;
  cached: number;
  errors: number;
  /** Models whose endpoint said it is `weightbridge simulate` (in this call). */
  simulated: string[];
}

export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_MODEL_CONCURRENCY = 8;
export const DEFAULT_TIMEOUT_MS = 120_000;

interface CachedResponse {
  text: string;
  usage: ChatResponse["usage"];
  latencyMs: number;
  ttftMs?: number;
  finishReason: ChatResponse["finishReason"];
  simulated?: boolean;
}

function timeoutOf(v: string | number | undefined): number | undefined {
  return v === undefined ? undefined : parseDurationMs(v, "timeout");
}

function mergeParams(...layers: (ChatParams | undefined)[]): ChatParams {
  const out: ChatParams = {};
  for (const l of layers) if (l) Object.assign(out, Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)));
  return out;
}

interface Item {
  suite: PlannedSuite;
  testCase: PlannedCase;
  model: PlannedModel;
  repeat: number;
}

/** What a request produced, before grading. */
type Answer = Pick<ResultRecord, "output" | "inputTokens" | "outputTokens" | "costPusd" | "latencyMs" | "ttftMs" | "cached" | "attempts">;

function estimateTokens(messages: Message[], params: ChatParams): number {
  return Math.ceil(messages.reduce((a, m) => a + m.content.length, 0) / 4) + (params.maxTokens ?? 256);
}

export async function runPlan(opts: RunOptions): Promise<RunOutcome> {
  const { plan, store, runId } = opts;
  const signal = opts.signal;
  // Every request in flight listens on the run's signal; that is expected, not a leak.
  if (signal) setMaxListeners(0, signal);
  const globalCap = new Semaphore(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const factory = opts.providerFactory ?? createProvider;
  const connections = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const providers = new Map<string, Provider>();
  const limiters = new Map<string, ModelLimiter>();
  const allModels = new Map<string, PlannedModel>([...plan.helpers, ...plan.models].map((m) => [m.config.id, m]));

  const providerFor = (id: string): Provider => {
    let p = providers.get(id);
    if (!p) {
      const m = allModels.get(id);
      if (!m) throw new UserError(`model "${id}" is not in the run's plan`);
      p = factory(m.config, connections);
      providers.set(id, p);
    }
    return p;
  };
  const limiterFor = (m: ModelConfig): ModelLimiter => {
    let l = limiters.get(m.id);
    if (!l) {
      const concurrency = m.concurrency ?? defaultConcurrency(m, plan.defaults.concurrency ?? DEFAULT_MODEL_CONCURRENCY);
      l = new ModelLimiter({ concurrency, ...(m.rpm ? { rpm: m.rpm } : {}), ...(m.tpm ? { tpm: m.tpm } : {}) });
      limiters.set(m.id, l);
    }
    return l;
  };
  const timeouts = new Map<string, number>();
  const timeoutFor = (m: ModelConfig): number => {
    let t = timeouts.get(m.id);
    if (t === undefined) {
      t = timeoutOf(m.timeout) ?? timeoutOf(plan.defaults.timeout) ?? DEFAULT_TIMEOUT_MS;
      timeouts.set(m.id, t);
    }
    return t;
  };
  const retryFor = (m: ModelConfig): RetryPolicy => ({ ...DEFAULT_RETRY, retries: m.retries ?? plan.defaults.retries ?? DEFAULT_RETRY.retries });

  // Fail fast on configuration problems (missing API key env, missing GGUF) before any request.
  for (const m of plan.models) providerFor(m.config.id);
  for (const m of plan.helpers) providerFor(m.config.id);

  const paramsCache = new Map<string, ChatParams>();
  const paramsFor = (suite: PlannedSuite, m: ModelConfig): ChatParams => {
    const key = `${suite.name}\u0000${m.id}`;
    let p = paramsCache.get(key);
    if (!p) {
      p = mergeParams(plan.defaults.params, suite.params, m.params);
      paramsCache.set(key, p);
    }
    return p;
  };

  const writer = new GroupWriter(store);
  const cacheKey = (m: ModelConfig, messages: Message[], params: ChatParams, salt: string) =>
    sha256Hex(stableStringify({ upstream: providerFor(m.id).cacheIdentity, messages, params, salt }));
  /** Cache hits for the whole run, read in one pass before the first request. */
  let cacheHits = new Map<string, string>();

  /**
   * One model call with limits, cache and retries, for candidates and judges alike. A fresh
   * response comes back with its cache entry, which the caller commits together with the result.
   */
  const call = async (
    m: ModelConfig,
    messages: Message[],
    params: ChatParams,
    cacheSalt: string,
  ): Promise<{ res: CachedResponse; cached: boolean; attempts: number; cacheEntry?: { key: string; value: string } }> => {
    const key = opts.noCache ? "" : cacheKey(m, messages, params, cacheSalt);
    if (!opts.noCache) {
      // Candidate requests were prefetched; judge requests are few and looked up one by one.
      const hit = cacheHits.get(key) ?? (cacheSalt === "judge" ? await cacheGet(store.db, key) : undefined);
      if (hit) return { res: JSON.parse(hit) as CachedResponse, cached: true, attempts: 0 };
    }
    const provider = providerFor(m.id);
    const limiter = limiterFor(m);
    const timeoutMs = timeoutFor(m);
    // Only a tpm budget needs the estimate; it is computed once per request, not per attempt.
    const est = limiter.paced ? estimateTokens(messages, params) : 0;
    // Free slots are taken synchronously; only a full limiter costs an await.
    const wait1 = limiter.slots.acquire();
    if (wait1) await wait1;
    const wait2 = globalCap.acquire();
    if (wait2) await wait2;
    try {
      const { value, attempts } = await withRetries(
        async () => {
          if (limiter.paced) await limiter.admit(est, signal);
          const r = await provider.chat({ messages, params, timeoutMs, ...(signal ? { signal } : {}) });
          limiter.settle(est, r.usage.inputTokens + r.usage.outputTokens);
          return r;
        },
        retryFor(m),
        signal,
        (err, attempt, delay) => opts.onRetry?.(m.id, err, attempt, delay),
      );
      const res: CachedResponse = {
        text: value.text,
        usage: value.usage,
        latencyMs: value.latencyMs,
        ...(value.ttftMs !== undefined ? { ttftMs: value.ttftMs } : {}),
        finishReason: value.finishReason,
        ...(value.simulated ? { simulated: true } : {}),
      };
      return { res, cached: false, attempts, ...(opts.noCache ? {} : { cacheEntry: { key, value: JSON.stringify(res) } }) };
    } finally {
      globalCap.release();
      limiter.slots.release();
    }
  };

  const judge = async (model: string | undefined, messages: Message[]): Promise<string> => {
    const id = model ?? plan.judge;
    const m = id ? allModels.get(id) : undefined;
    if (!m) throw new GradeError("llm-judge: no judge model configured");
    const r = await call(m.config, messages, { temperature: 0, maxTokens: 256 }, "judge");
    if (r.cacheEntry) await writer.write({ cache: r.cacheEntry });
    return r.res.text;
  };
  const embed = async (model: string | undefined, texts: string[]): Promise<number[][]> => {
    const id = model ?? plan.embedder;
    const p = id ? providerFor(id) : undefined;
    if (!p?.embed) throw new GradeError(`similarity: model ${id ?? "(none)"} has no embeddings endpoint`);
    return p.embed(texts, signal);
  };

  const done = await finishedKeys(store.db, runId);
  const queues = new Map<string, Item[]>();
  let total = 0;
  let skipped = 0;
  for (const suite of plan.suites)
    for (const testCase of suite.cases)
      for (let repeat = 0; repeat < plan.repeat; repeat++)
        for (const model of plan.models) {
          total++;
          if (done.has(resultKey(suite.name, testCase.index, model.config.id, repeat))) {
            skipped++;
            continue;
          }
          const q = queues.get(model.config.id) ?? [];
          q.push({ suite, testCase, model, repeat });
          queues.set(model.config.id, q);
        }

  if (!opts.noCache) {
    const keys: string[] = [];
    for (const q of queues.values())
      for (const it of q) {
        const m = it.model.config;
        keys.push(cacheKey(m, it.testCase.messages, paramsFor(it.suite, m), it.repeat > 0 ? `repeat:${it.repeat}` : ""));
      }
    cacheHits = await cacheGetMany(store.db, keys);
  }

  /** Per model: successes and connection failures, to stop early when an endpoint is unreachable. */
  const health = new Map<string, { ok: number; unreachable: number }>();
  const UNREACHABLE_AFTER = 3;

  /** Models whose endpoint said it is `weightbridge simulate`. */
  const simulated = new Set<string>();
  let finished = skipped;
  let fatal: unknown;
  const commits = new Set<Promise<void>>();
  let requested = 0;
  let cachedCount = 0;
  let errors = 0;
  opts.onProgress?.(finished, total);

  /** One result row, built as one literal of fixed shape (spreading shared parts cost ~25 µs a request). */
  const recordOf = (it: Item, a: Answer, g: { grades: ResultRecord["grades"]; score: number; passed: boolean }, error: string | null): ResultRecord => ({
    runId,
    suite: it.suite.name,
    caseIndex: it.testCase.index,
    caseId: it.testCase.id,
    modelId: it.model.config.id,
    repeat: it.repeat,
    messages: it.testCase.messages,
    output: a.output,
    grades: g.grades,
    score: g.score,
    passed: g.passed,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    costPusd: a.costPusd,
    latencyMs: a.latencyMs,
    ttftMs: a.ttftMs,
    error,
    cached: a.cached,
    attempts: a.attempts,
  });
  const ungraded = { grades: [], score: 0, passed: false };

  const runItem = async (it: Item): Promise<void> => {
    const m = it.model.config;
    const params = paramsFor(it.suite, m);
    let record: ResultRecord;
    let cacheEntry: { key: string; value: string } | undefined;
    try {
      const { res, cached, attempts, cacheEntry: fresh } = await call(m, it.testCase.messages, params, it.repeat > 0 ? `repeat:${it.repeat}` : "");
      cacheEntry = fresh;
      if (res.simulated) simulated.add(m.id);
      const h = health.get(m.id) ?? { ok: 0, unreachable: 0 };
      h.ok++;
      health.set(m.id, h);
      if (cached) cachedCount++;
      else requested++;
      const answer: Answer = {
        output: res.text,
        inputTokens: res.usage.inputTokens,
        outputTokens: res.usage.outputTokens,
        costPusd: it.model.price ? costPusd(res.usage.inputTokens, res.usage.outputTokens, it.model.price) : null,
        latencyMs: res.latencyMs,
        ttftMs: res.ttftMs ?? null,
        cached,
        attempts,
      };
      try {
        record = recordOf(it, answer, await gradeCase(it.testCase.expects, { output: res.text, testCase: it.testCase, judge, embed }), null);
      } catch (e) {
        if (signal?.aborted) throw e;
        errors++;
        record = recordOf(it, answer, ungraded, `grading failed: ${errorMessage(e)}`);
      }
    } catch (e) {
      if (signal?.aborted || e instanceof UserError) throw e;
      if (!(e instanceof ProviderError)) throw e;
      if (e.message.startsWith("connection error")) {
        const h = health.get(m.id) ?? { ok: 0, unreachable: 0 };
        h.unreachable++;
        health.set(m.id, h);
        if (h.ok === 0 && h.unreachable >= Math.min(UNREACHABLE_AFTER, queues.get(m.id)?.length ?? 1)) {
          const where = "baseUrl" in m ? ` at ${m.baseUrl}` : "";
          throw new UserError(
            `model ${m.id}: cannot reach the endpoint${where} (${e.message}); stopped after ${h.unreachable} requests failed and none succeeded`,
            "check that the server is running and the baseUrl is right, then continue with --resume",
          );
        }
      }
      errors++;
      requested++;
      const attempts = (e as ProviderError & { attempts?: number }).attempts ?? 1;
      const none: Answer = { output: null, inputTokens: 0, outputTokens: 0, costPusd: null, latencyMs: null, ttftMs: null, cached: false, attempts };
      record = recordOf(it, none, ungraded, e.message);
    }
    // The next request need not wait for this commit; the request counts as finished once it is in.
    const commit = writer.write({ result: record, ...(cacheEntry ? { cache: cacheEntry } : {}) }).then(
      () => {
        finished++;
        opts.keep?.push(record);
        opts.onProgress?.(finished, total);
      },
      (e: unknown) => {
        fatal ??= e;
      },
    );
    commits.add(commit);
    void commit.finally(() => commits.delete(commit));
  };

  const workers: Promise<void>[] = [];
  for (const [modelId, queue] of queues) {
    const m = allModels.get(modelId)?.config;
    if (!m) continue;
    const n = Math.min(limiterFor(m).limits.concurrency, opts.concurrency ?? DEFAULT_CONCURRENCY, queue.length);
    let next = 0;
    for (let w = 0; w < n; w++)
      workers.push(
        (async () => {
          while (!signal?.aborted && fatal === undefined) {
            const it = queue[next++];
            if (!it) return;
            try {
              await runItem(it);
            } catch (e) {
              if (signal?.aborted) return;
              fatal ??= e;
              return;
            }
          }
        })(),
      );
  }
  try {
    await Promise.all(workers);
  } finally {
    await writer.drain().catch((e: unknown) => {
      fatal ??= e;
    });
    await Promise.all(commits);
    await Promise.all([...providers.values()].map((p) => p.close().catch(() => undefined)));
    await closeAgents();
    if (simulated.size) {
      const before = (plan as Plan & { simulated?: string[] }).simulated ?? [];
      await mergeIntoPlan(store.db, runId, { simulated: [...new Set([...before, ...simulated])] }).catch((e: unknown) => {
        fatal ??= e;
      });
    }
  }
  if (fatal !== undefined) throw fatal;
  return {
    runId,
    status: signal?.aborted ? "interrupted" : "completed",
    total,
    skipped,
    requested,
    cached: cachedCount,
    errors,
    simulated: [...simulated],
  };
}
