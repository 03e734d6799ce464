/**
 * Where a comparison stands against the non-inferiority margin, and — when its interval still
 * straddles the margin — about how many more cases would settle it. Shared by the eval summary and
 * the report's verdicts so both say the same thing.
 */
import type { PairedComparison } from "./compare.js";
import { casesToDecide } from "./sample-size.js";

export const PLANNING_POWER = 0.8;

export interface DecisionStatus {
  margin: number;
  /** Lower bound ≥ margin (adopt side), upper bound < margin (reject side), or still open (null). */
  settled: "above-margin" | "below-margin" | null;
  /** Open pass/fail comparisons: cases the comparison needs in all at `power`, planned from its own table; null when no n decides. */
  casesNeeded?: number | null;
  moreCases?: number | null;
  power?: number;
}

export function decisionStatus(c: PairedComparison, margin: number): DecisionStatus {
  const ci = c.qualityRatioCi95;
  if (ci && ci[0] >= margin) return { margin, settled: "above-margin" };
  if (ci && ci[1] < margin) return { margin, settled: "below-margin" };
  if (!c.table) return { margin, settled: null };
  // 300 simulated runs per candidate n (±2.7 points of power): enough for "about N", cheap in every summary.
  const plan = casesToDecide({ table: c.table, margin, power: PLANNING_POWER, sims: 300 });
  const needed = plan.cases;
  return {
    margin,
    settled: null,
    casesNeeded: needed,
    moreCases: needed === null ? null : Math.max(1, needed - c.n),
    power: PLANNING_POWER,
  };
}

/** "about 140 more cases would decide (80% power)" or a plain statement when none would. */
export function moreCasesPhrase(d: DecisionStatus): string | null {
  if (d.settled !== null || d.casesNeeded === undefined) return null;
  if (d.moreCases == null) return "the estimate sits on the margin: no number of cases is expected to decide";
  return `about ${d.moreCases} more cases would decide (${Math.round((d.power ?? PLANNING_POWER) * 100)}% power)`;
}
