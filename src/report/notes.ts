/**
 * What every eval report says besides its tables: that endpoints were simulated, that the run is
 * unfinished, the first error of each failing model, the degenerate intervals, and a short glossary of
 * p, CI and the verdict rule. Shared by the Markdown and HTML renderers so both say the same thing.
 */
import { oneLine, pct } from "./format.js";
import type { Report } from "./types.js";

export function simulatedNote(r: Report): string | undefined {
  if (r.simulated.length === 0) return undefined;
  return `SIMULATED: ${r.simulated.join(", ")} answered from \`weightbridge simulate\`, not a real model. These numbers say nothing about a real model's quality, cost or speed.`;
}

export function completionNote(r: Report): string | undefined {
  if (r.status === "completed") return undefined;
  const { done, total } = r.completion;
  return `This run is ${r.status}: ${done} of ${total} requests done (${pct(total ? done / total : 0, 1)}). Verdicts are INCOMPLETE until it is finished with --resume.`;
}

export function errorNotes(r: Report): string[] {
  return r.models.filter((m) => m.firstError).map((m) => `${m.id}: ${pct(m.errorRate, 1)} of requests failed; first error: ${oneLine(m.firstError ?? "")}`);
}

/** Suites × models whose score interval the summary flags as degenerate (e.g. a constant sample). */
export function degenerateNotes(r: Report): string[] {
  const out: string[] = [];
  for (const s of r.suites)
    for (const m of s.models) {
      const flagged = (m.score as { degenerate?: boolean }).degenerate === true || (m.vsBaseline as { degenerate?: boolean } | undefined)?.degenerate === true;
      if (flagged)
        out.push(`${s.name} / ${m.id}: the interval is degenerate (every case scored the same); it does not show the real uncertainty at n = ${m.n}.`);
    }
  return out;
}

export const GLOSSARY: [string, string][] = [
  ["95% CI", "the range that would contain the true value in 95% of repeated experiments; with few cases it is wide, and that width is the honest answer."],
  ["quality ratio", "the candidate's mean score divided by the baseline's on the same cases (paired)."],
  [
    "p",
    "the chance of a difference at least this large if the two models were equally good; small p means the difference is unlikely to be luck. It says nothing about how large the difference is.",
  ],
  [
    "verdict rule",
    "INCOMPLETE if the run did not finish; ERROR if the candidate's or baseline's error rate is above the limit; otherwise ADOPT when the quality ratio's lower 95% bound reaches the minimum and the cost ratio is within the maximum, REJECT when the upper bound is below the minimum or the cost is over, INCONCLUSIVE when the interval straddles the minimum (more cases would decide) or the cost is unknown.",
  ],
];
