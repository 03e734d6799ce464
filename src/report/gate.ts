/**
 * Verdicts that come before any quality judgement: a run that did not finish is INCOMPLETE (with how
 * much was done), and a comparison where the candidate or the baseline failed too often is ERROR
 * (a 100%-error candidate is not "inconclusive"; an 8%-done run is not "adopt"). Pure.
 */
import { oneLine } from "./format.js";
import type { AdoptionCriteria, Verdict } from "./types.js";

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export interface GateInput {
  id: string;
  baseline: string;
  status: string;
  completion: { done: number; total: number };
  errorRate: number;
  firstError: string | null;
  baselineErrorRate: number;
  baselineFirstError: string | null;
}

/** INCOMPLETE or ERROR with its reason, or undefined when the quality verdict may be given. */
export function gateVerdict(c: GateInput, k: AdoptionCriteria): { verdict: Verdict; reason: string } | undefined {
  const { done, total } = c.completion;
  if (c.status !== "completed")
    return {
      verdict: "incomplete",
      reason: `The run is ${c.status}: ${done} of ${total} requests done (${pct(total ? done / total : 0)}); finish it with --resume before deciding.`,
    };
  const failing = [
    { id: c.id, rate: c.errorRate, first: c.firstError },
    { id: c.baseline, rate: c.baselineErrorRate, first: c.baselineFirstError },
  ].find((m) => m.rate > k.maxErrorRate);
  if (failing)
    return {
      verdict: "error",
      reason: `${pct(failing.rate)} of ${failing.id}'s requests failed (limit ${pct(k.maxErrorRate)})${failing.first ? `; first error: ${oneLine(failing.first)}` : ""}.`,
    };
  return undefined;
}
