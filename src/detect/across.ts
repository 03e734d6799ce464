/**
 * Detection over the texts of one request at once (adjacent messages, content parts, tool
 * arguments), so that a value split across them ("4111 1111" | "1111 1111") is found. Why: each
 * text alone holds no value, and a model reads them as one. Pure; about twice the work of scanning
 * each text alone (each text is scanned, then their concatenation).
 *
 * The texts are joined with nothing between them: a split value, wherever it was cut, becomes the
 * value again. Two values that merely sit side by side do not become a false one, because
 * validation decides (Luhn, mod-97, numbering plans, domain shape), and because a value found in
 * the join is dropped when it only extends a value one text already holds on its own
 * ("a@example.com" | "x" is not the address "a@example.comx"). Each text gets the piece of a split
 * value that lies in it, so redacting every text's pieces removes the whole value.
 */
import { scanText } from "./pipeline.js";
import { defaultDetectors, detect } from "./redact.js";
import { lastAtOrBefore } from "./sorted.js";
import type { Detector, Entity } from "./types.js";

/** Index of the text holding offset `at` of the join (the last text starting at or before it). */
const textAt = (starts: readonly number[], at: number): number => lastAtOrBefore(starts, at);

/** The text's own entities with the pieces added; where they overlap, the split value's piece grows to cover both. */
function merge(own: Entity[], pieces: Entity[]): Entity[] {
  if (pieces.length === 0) return own;
  const all = [...pieces, ...own].sort((a, b) => a.start - b.start);
  const out: Entity[] = [];
  for (const e of all) {
    const last = out[out.length - 1];
    if (last && e.start < last.end) {
      const piece = last.rule.startsWith("split:") ? last : e;
      out[out.length - 1] = { ...piece, start: last.start, end: Math.max(last.end, e.end) };
    } else out.push({ ...e });
  }
  return out;
}

export function detectAcross(texts: readonly string[], detectors: readonly Detector[] = defaultDetectors()): Entity[][] {
  const own = texts.map((t) => detect(t, detectors));
  if (texts.length < 2) return own;
  const starts: number[] = [];
  let total = 0;
  for (const t of texts) {
    starts.push(total);
    total += t.length;
  }
  const pieces: Entity[][] = texts.map(() => []);
  for (const e of scanText(texts.join(""), detectors)) {
    const first = textAt(starts, e.start);
    const last = textAt(starts, e.end - 1);
    if (first === last) continue; // inside one text: that text's own scan is authoritative
    const extendsOwn = [first, last].some((k) => {
      const off = starts[k] as number;
      return (own[k] as Entity[]).some(
        (o) =>
          o.type === e.type &&
          o.start + off >= e.start &&
          o.end + off <= e.end &&
          (k === first ? o.end + off === off + (texts[k] as string).length : o.start === 0),
      );
    });
    if (extendsOwn) continue;
    for (let k = first; k <= last; k++) {
      const off = starts[k] as number;
      const s = Math.max(e.start, off) - off;
      const t = Math.min(e.end, off + (texts[k] as string).length) - off;
      if (t > s) (pieces[k] as Entity[]).push({ type: e.type, start: s, end: t, rule: `split:${e.rule}` });
    }
  }
  return own.map((o, k) => merge(o, pieces[k] as Entity[]));
}
