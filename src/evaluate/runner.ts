/**
 * The scheduler: every (suite, case, model, repeat) of a plan that has not finished, in per-model
 * queues drained by workers under per-model limits and a global cap. What one item does is the
 * attempt (attempt.ts: a request, or a whole conversation); how a model is called is model-call.ts;
 * what is kept is the recorder (recorder.ts). This file owns only order, concurrency and stopping.
 */
import { setMaxListeners } from "node:events";
import type { ModelConfig } from "../config/index.js";
import { closeAgents } from "../net/index.js";
import type { Provider } from "../providers/index.js";
import { ProviderError } from "../providers/index.js";
import type { ResultRecord } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { finishedKeys, loadTurns, mergeIntoPlan, resultKey } from "../store/index.js";
import { UserError } from "../util/errors.js";
import { type AttemptDeps, type Item, isConversation, itemRecord, runAttempt, type StoredTurn } from "./attempt.js";
import { DEFAULT_CONCURRENCY, ModelCaller } from "./model-call.js";
import type { Plan } from "./plan.js";
import { Recorder } from "./recorder.js";

export { DEFAULT_CONCURRENCY, DEFAULT_MODEL_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "./model-call.js";

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

/** Per model: the items still to run; and how many there were in all. */
async function queuesOf(plan: Plan, store: StoreHandle, runId: string): Promise<{ queues: Map<string, Item[]>; total: number; skipped: number }> {
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
  return { queues, total, skipped };
}

/** Turns stored by an earlier process for conversations that did not finish (read only when the plan has conversations). */
async function storedTurnsOf(plan: Plan, store: StoreHandle, runId: string): Promise<Map<string, StoredTurn[]>> {
  const out = new Map<string, StoredTurn[]>();
  if (!plan.suites.some((s) => s.cases.some((c) => isConversation(s, c)))) return out;
  for (const [key, turns] of await loadTurns(store.db, runId))
    out.set(
      key,
      turns.map((t) => t.response as StoredTurn),
    );
  return out;
}

/** Connection failures per model with no success: stop early when an endpoint is unreachable. */
class Health {
  private readonly byModel = new Map<string, { ok: number; unreachable: number }>();
  ok(id: string): void {
    const h = this.byModel.get(id) ?? { ok: 0, unreachable: 0 };
    h.ok++;
    this.byModel.set(id, h);
  }
  failed(m: ModelConfig, e: ProviderError, queued: number): void {
    if (!e.message.startsWith("connection error")) return;
    const h = this.byModel.get(m.id) ?? { ok: 0, unreachable: 0 };
    h.unreachable++;
    this.byModel.set(m.id, h);
    if (h.ok === 0 && h.unreachable >= Math.min(3, queued)) {
      const where = "baseUrl" in m ? ` at ${m.baseUrl}` : "";
      throw new UserError(
        `model ${m.id}: cannot reach the endpoint${where} (${e.message}); stopped after ${h.unreachable} requests failed and none succeeded`,
        "check that the server is running and the baseUrl is right, then continue with --resume",
      );
    }
  }
}

function errorRecord(runId: string, it: Item, e: ProviderError): ResultRecord {
  return itemRecord(runId, it, {
    output: null,
    grades: [],
    score: 0,
    passed: false,
    inputTokens: 0,
    outputTokens: 0,
    costPusd: null,
    latencyMs: null,
    ttftMs: null,
    error: e.message,
    cached: false,
    attempts: (e as ProviderError & { attempts?: number }).attempts ?? 1,
  });
}

/** queues → cache prefetch → workers per model (under its limit and the global cap) → drain and close. */
export async function runPlan(opts: RunOptions): Promise<RunOutcome> {
  const { plan, store, runId, signal } = opts;
  // Every request in flight listens on the run's signal; that is expected, not a leak.
  if (signal) setMaxListeners(0, signal);
  const caller = new ModelCaller({ ...opts });
  const { queues, total, skipped } = await queuesOf(plan, store, runId);
  const stored = await storedTurnsOf(plan, store, runId);
  await prefetch(caller, queues);
  const recorder = new Recorder(store, total, skipped, opts.keep, opts.onProgress);
  const simulated = new Set<string>();
  const runItem = itemRunner({ runId, caller, recorder, ...(signal ? { signal } : {}) }, queues, stored, simulated);
  const workers: Promise<void>[] = [];
  for (const [modelId, queue] of queues) {
    const m = caller.model(modelId)?.config;
    if (!m) continue;
    const n = Math.min(caller.limiterFor(m).limits.concurrency, opts.concurrency ?? DEFAULT_CONCURRENCY, queue.length);
    workers.push(...drainQueue(queue, n, runItem, recorder, signal));
  }
  try {
    await Promise.all(workers);
  } finally {
    await recorder.drain();
    await caller.close();
    await closeAgents();
    if (simulated.size) await recordSimulated(store, plan, runId, simulated, recorder);
  }
  if (recorder.fatal !== undefined) throw recorder.fatal;
  return {
    runId,
    status: signal?.aborted ? "interrupted" : "completed",
    total,
    skipped,
    requested: recorder.requested,
    cached: recorder.cached,
    errors: recorder.errors,
    simulated: [...simulated],
  };
}

/** Every queued item's cache entry read in one go before the first request. */
async function prefetch(caller: ModelCaller, queues: Map<string, Item[]>): Promise<void> {
  const keys: string[] = [];
  for (const q of queues.values())
    for (const it of q) {
      const m = it.model.config;
      keys.push(caller.cacheKey(m, it.testCase.messages, caller.paramsFor(it.suite, m), it.repeat > 0 ? `repeat:${it.repeat}` : "", it.suite.tools));
    }
  await caller.prefetch(keys);
}

/** One item: its attempt recorded, or its provider error recorded as an error row (an unreachable endpoint stops the run). */
function itemRunner(deps: AttemptDeps, queues: Map<string, Item[]>, stored: Map<string, StoredTurn[]>, simulated: Set<string>): (it: Item) => Promise<void> {
  const { runId, recorder, signal } = deps;
  const health = new Health();
  return async (it) => {
    const m = it.model.config;
    try {
      const key = resultKey(it.suite.name, it.testCase.index, m.id, it.repeat);
      const r = await runAttempt(it, deps, stored.get(key));
      if (r.simulated) simulated.add(m.id);
      health.ok(m.id);
      if (r.cached) recorder.cached++;
      else recorder.requested++;
      recorder.result(r.record, r.cacheEntry);
    } catch (e) {
      if (signal?.aborted || e instanceof UserError) throw e;
      if (!(e instanceof ProviderError)) throw e;
      health.failed(m, e, queues.get(m.id)?.length ?? 1);
      recorder.errors++;
      recorder.requested++;
      recorder.result(errorRecord(runId, it, e));
    }
  };
}

/** `n` workers taking items from one model's queue in order until it is empty, the run is aborted or an item fails fatally. */
function drainQueue(queue: readonly Item[], n: number, runItem: (it: Item) => Promise<void>, recorder: Recorder, signal?: AbortSignal): Promise<void>[] {
  let next = 0;
  const worker = async () => {
    while (!signal?.aborted && recorder.fatal === undefined) {
      const it = queue[next++];
      if (!it) return;
      try {
        await runItem(it);
      } catch (e) {
        if (signal?.aborted) return;
        recorder.fatal ??= e;
        return;
      }
    }
  };
  return Array.from({ length: n }, worker);
}

/** Which models answered as `weightbridge simulate`, merged into the stored plan. */
async function recordSimulated(store: StoreHandle, plan: Plan, runId: string, simulated: Set<string>, recorder: Recorder): Promise<void> {
  const before = (plan as Plan & { simulated?: string[] }).simulated ?? [];
  await mergeIntoPlan(store.db, runId, { simulated: [...new Set([...before, ...simulated])] }).catch((e: unknown) => {
    recorder.fatal ??= e;
  });
}
