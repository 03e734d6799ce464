/**
 * The adoption verdict and its one-sentence reason. Pure. ADOPT (lower 95% bound of the quality
 * ratio ≥ the minimum) is a non-inferiority test at one-sided 2.5%; when the comparison is given,
 * the reason quotes its p-value, and an INCONCLUSIVE one says about how many more cases would decide.
 */
import type { PairedComparison } from "../stats/index.js";
import { decisionStatus, formatPValue, moreCasesPhrase } from "../stats/index.js";
import type { AdoptionCriteria, Verdict } from "./types.js";

const pct = (x: number) => `${Math.round(x * 100)}%`;

export interface VerdictInput {
  id: string;
  baseline: string;
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
  costRatio: number | null;
  /** The comparison behind the ratio (for the non-inferiority p-value and the cases still needed). */
  comparison?: PairedComparison | null;
}

function niPhrase(c: VerdictInput, k: AdoptionCriteria): string {
  const ni = c.comparison?.nonInferiority;
  if (!ni || ni.pValue === null || Math.abs(ni.margin - k.minQualityRatio) > 1e-12) return "";
  return ` (non-inferiority ${formatPValue(ni.pValue)}, equality ${formatPValue(c.comparison?.pValue ?? 1)})`;
}

export function decideVerdict(c: VerdictInput, k: AdoptionCriteria): { verdict: Verdict; reason: string; moreCases?: number | null } {
  if (c.qualityRatio === null || c.qualityRatioCi95 === null)
    return { verdict: "inconclusive", reason: `No quality ratio: ${c.baseline} scored 0 or the two models share no cases.` };
  const [lo, hi] = c.qualityRatioCi95;
  const same = c.comparison?.degenerate ? ", every case scoring the same difference" : "";
  const q = `${c.id} scores ${pct(c.qualityRatio)} of ${c.baseline} (95% CI ${pct(lo)}–${pct(hi)}${same})`;
  if (hi < k.minQualityRatio) return { verdict: "reject", reason: `${q}: even the upper bound is below the required ${pct(k.minQualityRatio)}.` };
  if (c.costRatio === null) return { verdict: "inconclusive", reason: `${q}, but its cost is unknown: add a price for it (config or catalog).` };
  if (c.costRatio > k.maxCostRatio)
    return { verdict: "reject", reason: `${q} at ${pct(c.costRatio)} of the cost: above the ${pct(k.maxCostRatio)} cost limit.` };
  if (lo >= k.minQualityRatio)
    return {
      verdict: "adopt",
      reason: `${q} at ${pct(c.costRatio)} of the cost: meets both criteria (quality ≥ ${pct(k.minQualityRatio)}${niPhrase(c, k)}, cost ≤ ${pct(k.maxCostRatio)}).`,
    };
  const status = c.comparison ? decisionStatus(c.comparison, k.minQualityRatio) : null;
  const more = status ? moreCasesPhrase(status) : null;
  return {
    verdict: "inconclusive",
    reason: `${q} at ${pct(c.costRatio)} of the cost: the interval straddles the required ${pct(k.minQualityRatio)}${niPhrase(c, k)}; ${more ?? "more cases would decide"}.`,
    ...(status?.moreCases !== undefined ? { moreCases: status.moreCases } : {}),
  };
}
