/** The adoption verdict and its one-sentence reason. Pure. */
import type { AdoptionCriteria, Verdict } from "./types.js";

const pct = (x: number) => `${Math.round(x * 100)}%`;

export interface VerdictInput {
  id: string;
  baseline: string;
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
  costRatio: number | null;
}

export function decideVerdict(c: VerdictInput, k: AdoptionCriteria): { verdict: Verdict; reason: string } {
  if (c.qualityRatio === null || c.qualityRatioCi95 === null)
    return { verdict: "inconclusive", reason: `No quality ratio: ${c.baseline} scored 0 or the two models share no cases.` };
  const [lo, hi] = c.qualityRatioCi95;
  const q = `${c.id} scores ${pct(c.qualityRatio)} of ${c.baseline} (95% CI ${pct(lo)}–${pct(hi)})`;
  if (hi < k.minQualityRatio) return { verdict: "reject", reason: `${q}: even the upper bound is below the required ${pct(k.minQualityRatio)}.` };
  if (c.costRatio === null) return { verdict: "inconclusive", reason: `${q}, but its cost is unknown: add a price for it (config or catalog).` };
  if (c.costRatio > k.maxCostRatio)
    return { verdict: "reject", reason: `${q} at ${pct(c.costRatio)} of the cost: above the ${pct(k.maxCostRatio)} cost limit.` };
  if (lo >= k.minQualityRatio)
    return {
      verdict: "adopt",
      reason: `${q} at ${pct(c.costRatio)} of the cost: meets both criteria (quality ≥ ${pct(k.minQualityRatio)}, cost ≤ ${pct(k.maxCostRatio)}).`,
    };
  return {
    verdict: "inconclusive",
    reason: `${q} at ${pct(c.costRatio)} of the cost: the interval straddles the required ${pct(k.minQualityRatio)}; more cases would decide.`,
  };
}
