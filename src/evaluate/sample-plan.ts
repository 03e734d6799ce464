/**
 * `weightbridge plan`: from a pilot run's summary (or stated assumptions), the cases each suite needs
 * for every candidate's verdict to settle at the margin with the given power, and what running that
 * many cases would cost per model at the pilot's measured tokens and prices. Pure.
 */

import type { PairedTable } from "../stats/index.js";
import { casesToDecide, type SampleSize } from "../stats/index.js";
import { UserError } from "../util/errors.js";
import type { EvalSummary } from "./summary.js";

export interface CandidatePlan extends SampleSize {
  id: string;
  /** The pilot's (or assumed) paired table; null for continuous scores, which this planner does not cover. */
  table: PairedTable | null;
  note?: string;
}

export interface SuitePlan {
  name: string;
  pilotCases: number | null;
  /** Cases for every candidate of the suite to decide (the largest need); null when some cannot. */
  casesNeeded: number | null;
  candidates: CandidatePlan[];
  /** Per model: cost of one case in the pilot (all repeats) and of casesNeeded cases. */
  cost: { model: string; usdPerCase: number | null; usd: number | null }[];
}

export interface SamplePlan {
  margin: number;
  power: number;
  source: "run" | "assumptions";
  runId?: string;
  suites: SuitePlan[];
}

export function planFromSummary(s: EvalSummary, margin: number, power: number): SamplePlan {
  if (!s.baseline) throw new UserError(`run ${s.runId} has no baseline to plan against`, "set `baseline:` in the config and run a pilot eval");
  const suites = s.suites.map((suite): SuitePlan => {
    const candidates = suite.models.flatMap((m): CandidatePlan[] => {
      const v = m.vsBaseline;
      if (!v) return [];
      if (!v.table)
        return [
          {
            id: m.id,
            table: null,
            cases: null,
            ratio: v.qualityRatio ?? Number.NaN,
            direction: "undecidable",
            variance: Number.NaN,
            method: "normal-approximation",
            note: "scores are not pass/fail: plan covers pass/fail suites only",
          },
        ];
      return [{ id: m.id, table: v.table, ...casesToDecide({ table: v.table, margin, power }) }];
    });
    const needs = candidates.map((c) => c.cases);
    const casesNeeded = needs.length && needs.every((n) => n !== null) ? Math.max(...(needs as number[])) : null;
    const cost = suite.models.map((m) => {
      const usdPerCase = m.cost.usd === null || m.n === 0 ? null : m.cost.usd / m.n;
      return { model: m.id, usdPerCase, usd: usdPerCase === null || casesNeeded === null ? null : usdPerCase * casesNeeded };
    });
    return { name: suite.name, pilotCases: suite.cases, casesNeeded, candidates, cost };
  });
  return { margin, power, source: "run", runId: s.runId, suites };
}

/** The paired table implied by stated pass rates and the share of cases on which the models disagree. */
export function tableFromAssumptions(candidate: number, baseline: number, discordance: number): PairedTable {
  const candOnly = (discordance + candidate - baseline) / 2;
  const baseOnly = (discordance - candidate + baseline) / 2;
  const both = candidate - candOnly;
  const neither = 1 - both - candOnly - baseOnly;
  if ([candOnly, baseOnly, both, neither].some((x) => x < -1e-12))
    throw new UserError(
      `no pair of models has pass rates ${candidate} and ${baseline} and disagrees on ${discordance} of cases`,
      `--discordance must be at least |candidate − baseline| = ${Math.abs(candidate - baseline).toFixed(3)} and at most ${Math.min(candidate + baseline, 2 - candidate - baseline).toFixed(3)}`,
    );
  return { both, candOnly: Math.max(0, candOnly), baseOnly: Math.max(0, baseOnly), neither: Math.max(0, neither) };
}

export function planFromAssumptions(table: PairedTable, margin: number, power: number): SamplePlan {
  const c = { id: "candidate", table, ...casesToDecide({ table, margin, power }) };
  return { margin, power, source: "assumptions", suites: [{ name: "(assumed)", pilotCases: null, casesNeeded: c.cases, candidates: [c], cost: [] }] };
}
