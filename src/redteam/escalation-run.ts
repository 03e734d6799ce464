/**
 * Runs the multi-turn escalation conversations of a red-team run: every (goal, target model) not yet
 * stored, a few at a time; each turn is stored as the target answers it and each conversation when it
 * ends, so `--resume` replays what was stored and sends only the rest. Owns the providers it creates
 * and closes them.
 */
import type { ModelConfig } from "../config/index.js";
import type { Plan, PlannedCase, PlannedSuite } from "../evaluate/index.js";
import { createProvider, type Provider } from "../providers/index.js";
import { finishedKeys, loadTurns, resultKey, type StoreHandle, saveResults, saveTurns } from "../store/index.js";
import { type EscalationSpec, runConversation, type StoredEscalationTurn } from "./escalation.js";

export interface EscalationMeta {
  attacker: ModelConfig;
  packs: (EscalationSpec & { description: string })[];
}

/** Conversations at once when the run sets no concurrency (each holds an attacker and a target call in turn). */
const DEFAULT_CONVERSATIONS = 4;

export async function runEscalations(
  store: StoreHandle,
  plan: Plan,
  runId: string,
  meta: EscalationMeta,
  o: { concurrency?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<"completed" | "interrupted"> {
  const done = await finishedKeys(store.db, runId);
  const kept = await loadTurns(store.db, runId);
  const work = meta.packs.flatMap((spec) =>
    plan.models.flatMap((model) =>
      spec.goals.map((g, index) => ({ spec, g, index, model })).filter((w) => !done.has(resultKey(spec.suite, w.index, model.config.id, 0))),
    ),
  );
  const width = Math.max(1, o.concurrency ?? DEFAULT_CONVERSATIONS);
  const attacker = createProvider(meta.attacker, width);
  const targets = new Map<string, Provider>(plan.models.map((m) => [m.config.id, createProvider(m.config, width)]));
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < work.length && !o.signal?.aborted) {
      const w = work[next++];
      if (!w) break;
      const target = targets.get(w.model.config.id) as Provider;
      const modelId = w.model.config.id;
      const stored = (kept.get(resultKey(w.spec.suite, w.index, modelId, 0)) ?? []).map((t) => t.response as StoredEscalationTurn);
      const onTurn = (turn: number, t: StoredEscalationTurn) =>
        saveTurns(store.db, [{ runId, suite: w.spec.suite, caseIndex: w.index, modelId, repeat: 0, turn: turn - 1, response: t, facts: null }]);
      const rec = await runConversation(w.spec, w.g, w.index, {
        runId,
        attacker,
        target,
        model: w.model,
        stored,
        onTurn,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      await saveResults(store.db, [rec]);
      o.onProgress?.(++finished, work.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(width, work.length) }, worker)).catch((e: unknown) => {
      if (!o.signal?.aborted) throw e;
    });
  } finally {
    await Promise.all([attacker, ...targets.values()].map((p) => p.close()));
  }
  return o.signal?.aborted ? "interrupted" : "completed";
}

/** The escalation packs as planned suites, so the run's summary (rates, CIs, baseline pairs) covers them. */
export function escalationSuites(meta: EscalationMeta | undefined): PlannedSuite[] {
  return (meta?.packs ?? []).map((spec) => ({
    name: spec.suite,
    file: "",
    params: {},
    cases: spec.goals.map(
      (g, index): PlannedCase => ({
        index,
        id: `${g.pack}/${g.attack}`,
        messages: [...(g.system ? [{ role: "system" as const, content: g.system }] : []), { role: "user", content: g.goal }],
        expects: [g.expect],
        vars: { category: g.category, language: g.language },
      }),
    ),
  }));
}
