/** One-sentence descriptions of a comparison and its p-values, shared by eval output and reports. */
import type { PairedComparison } from "./compare.js";

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function formatPValue(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/** "beta scores 89% of alpha (95% CI 85–93%), p < 0.001" (+ "; no case differed" when degenerate) */
export function describeComparison(candidateId: string, baselineId: string, c: PairedComparison): string {
  const tail = c.degenerate ? "; every case scored the same difference, so the data show no spread" : "";
  if (c.qualityRatio === null) {
    const d = `${c.diff >= 0 ? "+" : ""}${(c.diff * 100).toFixed(1)} points`;
    return `${candidateId} differs from ${baselineId} by ${d} (baseline scored 0, no ratio), ${formatPValue(c.pValue)}${tail}`;
  }
  const ci = c.qualityRatioCi95 ? ` (95% CI ${Math.round(c.qualityRatioCi95[0] * 100)}–${pct(c.qualityRatioCi95[1])})` : "";
  return `${candidateId} scores ${pct(c.qualityRatio)} of ${baselineId}${ci}, ${formatPValue(c.pValue)}${tail}`;
}
