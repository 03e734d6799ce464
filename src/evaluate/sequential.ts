/**
 * `eval --until-decided`: run each suite's cases in a seeded random order, in looks of growing size
 * (20, 40, 80, … up to --max-cases), and stop a suite as soon as every candidate's quality-ratio
 * interval clears the margin (above: adopt side, below: reject side). Peeking must not inflate
 * error, so this is a group-sequential design: the 5% error is spent over the looks with a
 * Lan–DeMets Pocock-type spending function, α(t) = α·ln(1 + (e − 1)t), and look j's intervals are
 * computed at level α_j = α(t_j) − α(t_{j−1}). Because the α_j sum to α, the chance that any look's
 * interval misses the truth is at most α (Bonferroni over looks): the reported interval, taken at
 * whichever look the run stopped, covers with ≥ 95% however the stopping went. Conservative (it
 * ignores the correlation between looks), never anti-conservative. The runner is unchanged: each
 * look runs a plan restricted to the cases drawn so far, and finished requests are skipped.
 */
import { normQuantile, seededRng } from "../stats/index.js";
import type { Plan } from "./plan.js";
import type { RunOutcome } from "./runner.js";
import type { EvalSummary } from "./summary.js";

export const FIRST_LOOK = 20;
export const SEQUENTIAL_SEED = 20261202;

export interface SequentialSuite {
  name: string;
  /** Cases run (in the seeded random order) and cases in the suite. */
  cases: number;
  of: number;
  /** Look at which the suite stopped (1-based) and that look's two-sided level. */
  look: number;
  alpha: number;
  settled: boolean;
  reason: string;
  /** This suite's look sizes. */
  schedule: number[];
}

export interface SequentialReport {
  design: "group-sequential";
  spending: "pocock-type (Lan–DeMets), Bonferroni over looks";
  alpha: number;
  seed: number;
  maxCases: number | null;
  stoppedEarly: boolean;
  suites: SequentialSuite[];
}

/** Look sizes: FIRST_LOOK, doubling, ending exactly at max. */
export function lookSchedule(max: number, first = FIRST_LOOK): number[] {
  const out: number[] = [];
  for (let n = Math.min(first, max); n < max; n *= 2) out.push(n);
  out.push(max);
  return out;
}

/** α spent at each look: Pocock-type spending increments over information fractions n_j / max. */
export function spendAlpha(schedule: readonly number[], alpha = 0.05): number[] {
  const max = schedule[schedule.length - 1] as number;
  const spent = (t: number) => alpha * Math.log(1 + (Math.E - 1) * t);
  return schedule.map((n, j) => spent(n / max) - (j === 0 ? 0 : spent((schedule[j - 1] as number) / max)));
}

export const zForAlpha = (a: number) => normQuantile(1 - a / 2);

/** A seeded random order of a suite's case positions (Fisher–Yates). */
export function caseOrder(n: number, suiteName: string, seed = SEQUENTIAL_SEED): number[] {
  let h = seed >>> 0;
  for (const ch of suiteName) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const rng = seededRng(h);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** The plan restricted to the first `size` cases of each suite's order (original case indexes kept). */
export function subPlan(plan: Plan, sizes: ReadonlyMap<string, number>, orders: ReadonlyMap<string, number[]>): Plan {
  return {
    ...plan,
    suites: plan.suites.map((s) => {
      const keep = new Set((orders.get(s.name) ?? []).slice(0, sizes.get(s.name) ?? s.cases.length));
      return { ...s, cases: s.cases.filter((_, i) => keep.has(i)) };
    }),
  };
}

/** Every candidate's ratio interval (at the look's level) clears the margin; the reason says how. */
export function suiteSettled(summary: EvalSummary, suiteName: string, margin: number): { settled: boolean; reason: string } {
  const s = summary.suites.find((x) => x.name === suiteName);
  const vs = (s?.models ?? []).filter((m) => m.id !== summary.baseline);
  const open: string[] = [];
  for (const m of vs) {
    const ci = m.vsBaseline?.qualityRatioCi95;
    if (!ci || !(ci[0] >= margin || ci[1] < margin)) open.push(m.id);
  }
  if (vs.length === 0) return { settled: false, reason: "no candidate to compare" };
  if (open.length) return { settled: false, reason: `undecided at the ${Math.round(margin * 100)}% margin: ${open.join(", ")}` };
  return { settled: true, reason: `every candidate's interval clears the ${Math.round(margin * 100)}% margin` };
}

export interface SequentialHooks {
  /** Run a (sub-)plan; finished requests are skipped by the runner. */
  runLook: (plan: Plan) => Promise<RunOutcome>;
  /** Summarise what is stored so far, with each suite's intervals at the given z. */
  summariseAt: (z: ReadonlyMap<string, number>) => Promise<EvalSummary>;
}

/** Drive the looks; returns the last outcome, the final summary (adjusted intervals) and the report. */
export async function runUntilDecided(
  plan: Plan,
  margin: number,
  hooks: SequentialHooks,
  opts: { maxCases?: number; alpha?: number; signal?: AbortSignal } = {},
): Promise<{ outcome: RunOutcome; summary: EvalSummary; report: SequentialReport }> {
  const alpha = opts.alpha ?? 0.05;
  const orders = new Map(plan.suites.map((s) => [s.name, caseOrder(s.cases.length, s.name)]));
  const state = new Map<string, SequentialSuite>();
  const sizes = new Map<string, number>();
  const plans = new Map(plan.suites.map((s) => [s.name, lookSchedule(Math.min(s.cases.length, opts.maxCases ?? s.cases.length))]));
  const maxLooks = Math.max(...[...plans.values()].map((x) => x.length));
  let outcome: RunOutcome | undefined;
  let summary: EvalSummary | undefined;
  for (let j = 0; j < maxLooks; j++) {
    const z = new Map<string, number>();
    for (const s of plan.suites) {
      const sched = plans.get(s.name) as number[];
      const done = state.get(s.name)?.settled ?? false;
      const look = done ? (state.get(s.name) as SequentialSuite).look - 1 : Math.min(j, sched.length - 1);
      sizes.set(s.name, sched[look] as number);
      z.set(s.name, zForAlpha(spendAlpha(sched, alpha)[look] as number));
    }
    outcome = await hooks.runLook(subPlan(plan, sizes, orders));
    summary = await hooks.summariseAt(z);
    if (outcome.status === "interrupted" || opts.signal?.aborted) break;
    for (const s of plan.suites) {
      if (state.get(s.name)?.settled) continue;
      const sched = plans.get(s.name) as number[];
      const look = Math.min(j, sched.length - 1);
      const verdict = suiteSettled(summary, s.name, margin);
      const alphaJ = spendAlpha(sched, alpha)[look] as number;
      state.set(s.name, { name: s.name, cases: sched[look] as number, of: s.cases.length, look: look + 1, alpha: alphaJ, ...verdict, schedule: sched });
    }
    if ([...state.values()].every((x) => x.settled)) break;
  }
  const suites = plan.suites.map((s) => state.get(s.name) as SequentialSuite).filter(Boolean);
  const report: SequentialReport = {
    design: "group-sequential",
    spending: "pocock-type (Lan–DeMets), Bonferroni over looks",
    alpha,
    seed: SEQUENTIAL_SEED,
    maxCases: opts.maxCases ?? null,
    stoppedEarly: suites.some((s) => s.cases < s.of),
    suites,
  };
  return { outcome: outcome as RunOutcome, summary: summary as EvalSummary, report };
}
