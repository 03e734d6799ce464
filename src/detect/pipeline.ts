/**
 * One text through detection: normalise (offsets mapped back), run the detectors, decode bounded
 * base64/hex runs and scan what they hold, resolve overlaps; a text that cannot hold a value
 * (prefilter.ts) is not scanned at all. Entities index the original text, so
 * redaction replaces the characters that were sent (zero-width spaces and fullwidth digits
 * included; an encoded run as a whole). Pure and linear.
 */
import { findEncodedRuns } from "./decode.js";
import { type Normalised, normalise, originalSpan } from "./normalise.js";
import { PRIORITY, resolveOverlaps } from "./overlaps.js";
import { mayHoldValue } from "./prefilter.js";
import { lastAtOrBefore } from "./sorted.js";
import type { Detector, Entity } from "./types.js";

/** Joins decoded runs for one pass of the detectors; no detector matches across a NUL between line breaks. */
export const SEPARATOR = "\n\u0000\n";

function runAll(text: string, detectors: readonly Detector[]): Entity[] {
  const out: Entity[] = [];
  for (const d of detectors) for (const e of d(text)) out.push(e);
  return out;
}

/** Entities found inside encoded runs of `n.text`, each reported over its whole run (normalised offsets). */
function encodedEntities(n: Normalised, detectors: readonly Detector[]): Entity[] {
  const runs = findEncodedRuns(n.text);
  if (runs.length === 0) return [];
  // All decoded runs are scanned in one pass of each detector, not one pass per run: a flood of
  // short runs would otherwise pay every detector's fixed cost per run.
  const starts: number[] = [];
  let joined = "";
  for (const r of runs) {
    starts.push(joined.length);
    joined += r.decoded + SEPARATOR;
  }
  const inner = normalise(joined);
  const best = new Map<number, Entity>();
  // Overlaps are resolved inside the decoded text first: an IBAN there keeps the digits it holds.
  for (const e of resolveOverlaps(runAll(inner.text, detectors))) {
    const [s] = originalSpan(inner, e.start, e.end);
    const lo = lastAtOrBefore(starts, s);
    const r = runs[lo];
    const had = best.get(lo);
    if (!r || (had && (PRIORITY[had.type] ?? 9) <= (PRIORITY[e.type] ?? 9))) continue;
    best.set(lo, { type: e.type, start: r.start, end: r.end, rule: `${r.kind}:${e.rule}` });
  }
  return [...best.values()];
}

/** All entities of one text, non-overlapping, in order, with original offsets. */
export function scanText(text: string, detectors: readonly Detector[]): Entity[] {
  return mayHoldValue(text, detectors) ? scanAll(text, detectors) : [];
}

/** scanText without the pre-filter (for callers that applied it already, and for its tests). */
export function scanAll(text: string, detectors: readonly Detector[]): Entity[] {
  const n = normalise(text);
  const found = runAll(n.text, detectors);
  for (const e of encodedEntities(n, detectors)) found.push(e);
  if (n.from) {
    for (const e of found) {
      const [s, t] = originalSpan(n, e.start, e.end);
      e.start = s;
      e.end = t;
    }
  }
  return resolveOverlaps(found);
}
