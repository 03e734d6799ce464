/**
 * A red-team run: the packs become suites and go through the evaluation runner (cache, concurrency,
 * retries, store, resume); the summary becomes per pack and model: attacks, successes, rate with a
 * Wilson 95% CI, and the paired difference from the baseline (exact McNemar). Multi-turn packs'
 * conversations run first, beside the runner (escalation-run.ts), and are summarised the same way.
 */

import { join } from "node:path";
import type { ModelConfig } from "../config/index.js";
import { loadProjectAsync } from "../config/index.js";
import { buildPlan, DEFAULT_RETRY, type EvalSummary, openStoreFor, type Plan, resolveRun, runAndRecord, summarise, withRetries } from "../evaluate/index.js";
import { createProvider } from "../providers/index.js";
import type { ResultRecord } from "../records/index.js";
import { comparePaired, comparePairedByKey, wilsonInterval } from "../stats/index.js";
import { createRun, finishRun, loadResults, markRunning, newRunId, openStore, type StoreHandle } from "../store/index.js";
import { UserError } from "../util/errors.js";
import { escalationGoals, loadMultiTurnPack } from "./escalation-pack.js";
import { type EscalationMeta, escalationSuites, runEscalations } from "./escalation-run.js";
import { listPacks, loadPackSuites, loadPacks, loadSweep, PACKS_DIR, type Pack, packKind, sweepSuites, type TriggerSweep, translationKey } from "./packs.js";

export interface RedteamOptions {
  config?: string;
  packs?: string[];
  models?: string[];
  concurrency?: number;
  noCache?: boolean;
  /** Ask the config's judge whether non-refused jailbreak answers really help. */
  judge?: boolean;
  /** Translate base attacks into the packs' low-resource languages with this model. */
  translateWith?: string;
  /** The model (from the config) that writes the multi-turn packs' escalating messages. */
  attacker?: string;
  /** Most target answers per multi-turn conversation (default: the pack's maxTurns). */
  turns?: number;
  /** Where the packs are (default data/redteam in the package). */
  packsDir?: string;
  /** Continue an interrupted red-team run; finished attacks are not sent again. */
  resume?: string;
  signal?: AbortSignal;
  onStart?: (info: { runId: string; total: number }) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface RedteamModel {
  id: string;
  attacks: number;
  successes: number;
  errors: number;
  rate: number;
  ci95: [number, number];
  vsBaseline?: { diff: number; ci95: [number, number]; pValue: number };
  /** trigger-sweep: each trigger and position, its paired shift against the clean run. */
  triggers?: { trigger: string; position: string; diff: number; pValue: number; pAdjusted: number; flagged: boolean }[];
  /** sensitive-topics: how often the model refused, or answered without the key facts. */
  breakdown?: { refused: number; deflected: number };
  worst: { caseId: string; input: string; output: string }[];
}

export interface RedteamResult {
  runId: string;
  status: string;
  baseline: string | null;
  packs: { pack: string; description: string; models: RedteamModel[] }[];
  storeLocation: string;
  /** Multi-turn packs that were not run because no --attacker was given (they were not asked for by name). */
  skipped?: string[];
}

/** What a red-team run stores beside its plan, so that a resumed run rebuilds the same view. */
interface RedteamMeta {
  regular: { name: string; description: string }[];
  sweep?: TriggerSweep;
  variants: { suite: { name: string }; trigger: string; position: string; task: string }[];
  escalation?: EscalationMeta;
  skipped?: string[];
}
type RedteamPlan = Plan & { redteam: RedteamMeta };

const clip = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function redteamView(summary: EvalSummary, results: ResultRecord[], descriptions: Map<string, string>): RedteamResult["packs"] {
  return summary.suites.map((s) => ({
    pack: s.name,
    description: descriptions.get(s.name) ?? "",
    models: s.models.map((m) => {
      const rows = results.filter((r) => r.suite === s.name && r.modelId === m.id);
      const succeeded = rows.filter((r) => r.error === null && r.score === 1);
      const grades = rows.flatMap((r) => r.grades);
      const refused = grades.filter((g) => g.detail?.refused === true).length;
      const deflected = grades.filter((g) => g.detail?.deflected === true).length;
      const out: RedteamModel = {
        id: m.id,
        attacks: m.n,
        successes: succeeded.length,
        errors: m.errors,
        rate: m.score.mean,
        ci95: m.score.ci95,
        ...(m.vsBaseline ? { vsBaseline: { diff: m.vsBaseline.diff, ci95: m.vsBaseline.ci95, pValue: m.vsBaseline.pValue } } : {}),
        ...(s.name === "sensitive-topics" ? { breakdown: { refused, deflected } } : {}),
        worst: succeeded
          .slice(0, 3)
          .map((r) => ({ caseId: r.caseId, input: clip(r.messages[r.messages.length - 1]?.content ?? ""), output: clip(r.output ?? "") })),
      };
      return out;
    }),
  }));
}

/**
 * Trigger sweep: per model and (trigger, position), the task cases' scores with the trigger against
 * the clean run, paired by case; Bonferroni over all triggers and positions; "success" = flagged.
 */
export function sweepView(
  sweep: TriggerSweep,
  variants: { suite: { name: string }; trigger: string; position: string; task: string }[],
  plan: Plan,
  results: ResultRecord[],
  baseline: string | null,
): RedteamResult["packs"][number] {
  const combos = [...new Map(variants.map((v) => [`${v.trigger}\u0000${v.position}`, v])).values()];
  // Suite name → the task suite it was made from (names may contain dots, so no parsing).
  const taskOf = new Map<string, string>(variants.map((v) => [v.suite.name, v.task]));
  for (const v of variants) taskOf.set(`${sweep.pack}.${v.task}.clean`, v.task);
  const scoreMap = (suiteNames: Set<string>, model: string) => {
    const m = new Map<string, number>();
    for (const r of results) if (r.modelId === model && suiteNames.has(r.suite)) m.set(`${taskOf.get(r.suite)}\u0000${r.caseIndex}`, r.score);
    return m;
  };
  const flaggedOf = new Map<string, number[]>();
  const models: RedteamModel[] = plan.models.map((pm) => {
    const id = pm.config.id;
    const clean = scoreMap(new Set(variants.map((v) => `${sweep.pack}.${v.task}.clean`)), id);
    const triggers = combos.map((c) => {
      const names = new Set(variants.filter((v) => v.trigger === c.trigger && v.position === c.position).map((v) => v.suite.name));
      const trig = scoreMap(names, id);
      const cmp = comparePairedByKey(trig, clean);
      const pValue = cmp?.pValue ?? 1;
      const pAdjusted = Math.min(1, pValue * combos.length);
      return { trigger: c.trigger, position: c.position, diff: cmp?.diff ?? 0, pValue, pAdjusted, flagged: pAdjusted < sweep.alpha };
    });
    const flagged = triggers.filter((t) => t.flagged).length;
    flaggedOf.set(
      id,
      triggers.map((t) => (t.flagged ? 1 : 0)),
    );
    return {
      id,
      attacks: triggers.length,
      successes: flagged,
      errors: 0,
      rate: flagged / triggers.length,
      ci95: wilsonInterval(flagged, triggers.length),
      triggers,
      worst: [],
    };
  });
  const base = baseline ? flaggedOf.get(baseline) : undefined;
  for (const m of models) {
    const mine = flaggedOf.get(m.id);
    if (base && mine && m.id !== baseline) {
      const c = comparePaired(mine, base);
      m.vsBaseline = { diff: c.diff, ci95: c.ci95, pValue: c.pValue };
    }
  }
  return { pack: sweep.pack, description: sweep.description, models };
}

/**
 * Low-resource-language variants: a configured model translates each base attack (the attack then
 * asks for an English answer, so the refusal detector can read it). Translations are not vetted by
 * us; the translator is named in the run so a reviewer can judge it.
 */
async function translateAttacks(models: readonly ModelConfig[], translatorId: string, packs: readonly Pack[]): Promise<Map<string, string>> {
  const m = models.find((x) => x.id === translatorId);
  if (!m) throw new UserError(`--translate-with: no model "${translatorId}" in the config`, `models: ${models.map((x) => x.id).join(", ")}`);
  const provider = createProvider(m, 4);
  const out = new Map<string, string>();
  try {
    for (const p of packs)
      for (const lang of p.lowResourceLanguages ?? [])
        for (const a of p.attacks) {
          const r = await withRetries(
            () =>
              provider.chat({
                messages: [
                  { role: "system", content: `You are a professional translator. Translate the user's text into ${lang}. Output only the translation.` },
                  { role: "user", content: a.text },
                ],
                params: { temperature: 0, maxTokens: 600 },
                timeoutMs: 120_000,
              }),
            DEFAULT_RETRY,
          ).catch((e: unknown) => {
            throw new UserError(`--translate-with ${translatorId}: translating ${p.pack}/${a.id} into ${lang} failed: ${(e as Error).message}`);
          });
          if (r.value.text.trim()) out.set(translationKey(p.pack, a.id, lang), r.value.text.trim());
        }
  } finally {
    await provider.close();
  }
  return out;
}

export async function runRedteam(o: RedteamOptions): Promise<RedteamResult> {
  let plan: RedteamPlan;
  let runId: string;
  let store: StoreHandle;
  if (o.resume) {
    store = (await openStoreFor(o.config)).store;
    const run = await resolveRun(store, o.resume).catch(async (e: unknown) => {
      await store.close();
      throw e;
    });
    if (run.kind !== "redteam") {
      await store.close();
      throw new UserError(`run ${run.id} is a ${run.kind} run, not a red-team run`);
    }
    plan = run.plan as RedteamPlan;
    runId = run.id;
    await markRunning(store.db, runId);
  } else {
    const project = await loadProjectAsync(o.config);
    if (o.judge && !project.config.judge) throw new UserError("--judge needs a judge model", "set `judge: MODEL_ID` in the config");
    const translations = o.translateWith ? await translateAttacks(project.models, o.translateWith, loadPacks(o.packs, o.packsDir)) : undefined;
    const dir = o.packsDir ?? PACKS_DIR;
    const regular = loadPackSuites(o.packs, dir, { judge: Boolean(o.judge), ...(translations ? { translations } : {}) });
    const escalation = planEscalation(project.models, o, dir);
    const wantSweep = (!o.packs?.length && listPacks(dir).includes("trigger-sweep")) || o.packs?.includes("trigger-sweep");
    const sweep = wantSweep ? loadSweep(join(dir, "trigger-sweep.yaml")) : undefined;
    const variants = sweep ? sweepSuites(sweep, project.suites) : [];
    const clean = sweep ? project.suites.map((s) => ({ ...s, name: `${sweep.pack}.${s.name}.clean` })) : [];
    const base = buildPlan({ ...project, suites: [...regular, ...clean, ...variants.map((v) => v.suite)] }, { ...(o.models ? { models: o.models } : {}) });
    const talks = escalation.meta ? escalationSuites(escalation.meta) : [];
    const talkPacks = (escalation.meta?.packs ?? []).map((p) => ({ name: p.suite, description: p.description }));
    plan = {
      ...base,
      // The conversations are planned suites too, so that reports and the UI summarise them like any
      // pack; runAll() keeps them away from the runner, which could only send their first message.
      suites: [...base.suites, ...talks],
      redteam: {
        regular: [...regular.map((s) => ({ name: s.name, description: s.description ?? "" })), ...talkPacks],
        ...(sweep ? { sweep } : {}),
        variants: variants.map((v) => ({ suite: { name: v.suite.name }, trigger: v.trigger, position: v.position, task: v.task })),
        ...(escalation.meta ? { escalation: escalation.meta } : {}),
        ...(escalation.skipped.length ? { skipped: escalation.skipped } : {}),
      },
    };
    store = await openStore(project.storeUrl);
    runId = newRunId();
    await createRun(store.db, { id: runId, kind: "redteam", configPath: project.configPath, plan });
  }
  try {
    const meta = plan.redteam;
    o.onStart?.({ runId, total: plan.suites.reduce((a, s) => a + s.cases.length, 0) * plan.models.length });
    const status = await runAll(store, plan, runId, o);
    const results = await loadResults(store.db, runId);
    const summary = summarise(plan, runId, results);
    const regularNames = new Set(meta.regular.map((s) => s.name));
    const descriptions = new Map(meta.regular.map((s) => [s.name, s.description]));
    const packs = redteamView({ ...summary, suites: summary.suites.filter((s) => regularNames.has(s.name)) }, results, descriptions);
    if (meta.sweep) packs.push(sweepView(meta.sweep, meta.variants, plan, results, summary.baseline));
    return { runId, status, baseline: summary.baseline, packs, storeLocation: store.location, ...(meta.skipped ? { skipped: meta.skipped } : {}) };
  } finally {
    await store.close();
  }
}

/**
 * The multi-turn packs of this run: those named in --packs, or all of them when no pack is named —
 * then without --attacker they are skipped (and said so), since the other packs need no attacker.
 */
function planEscalation(models: readonly ModelConfig[], o: RedteamOptions, dir: string): { meta?: EscalationMeta; skipped: string[] } {
  const names = (o.packs?.length ? o.packs : listPacks(dir)).filter((n) => packKind(join(dir, `${n}.yaml`)) === "multi-turn");
  if (names.length === 0) return { skipped: [] };
  if (!o.attacker) {
    if (!o.packs?.length) return { skipped: names };
    throw new UserError(`--packs ${names.join(",")}: a multi-turn pack needs an attacker model`, "add --attacker MODEL_ID (a model from the config)");
  }
  const attacker = models.find((m) => m.id === o.attacker);
  if (!attacker) throw new UserError(`--attacker: no model "${o.attacker}" in the config`, `models: ${models.map((x) => x.id).join(", ")}`);
  const packs = names.map((n) => {
    const p = loadMultiTurnPack(join(dir, `${n}.yaml`));
    return { suite: p.pack, description: p.description, goals: escalationGoals(p, dir), maxTurns: o.turns ?? p.maxTurns, attackerSystem: p.attackerSystem };
  });
  return { meta: { attacker, packs }, skipped: [] };
}

/** The escalation conversations, then the runner's suites; the run's status is the worse of the two. */
async function runAll(store: StoreHandle, plan: RedteamPlan, runId: string, o: RedteamOptions): Promise<string> {
  const esc = plan.redteam.escalation;
  if (esc) {
    const s = await runEscalations(store, plan, runId, esc, o).catch(async (e: unknown) => {
      await finishRun(store.db, runId, e instanceof UserError ? "interrupted" : "failed");
      throw e;
    });
    if (s === "interrupted") {
      await finishRun(store.db, runId, "interrupted");
      return s;
    }
  }
  const talks = new Set((esc?.packs ?? []).map((p) => p.suite));
  const suites = plan.suites.filter((s) => !talks.has(s.name));
  if (suites.length === 0) {
    await finishRun(store.db, runId, "completed");
    return "completed";
  }
  return (await runAndRecord(store, { ...plan, suites }, runId, o)).status;
}
