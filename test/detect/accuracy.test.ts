import { describe, expect, it } from "vitest";
import { BUILTIN_CLASSES, detect } from "../../src/detect/index.js";
import { generateCorpus } from "../support/pii-corpus.js";

/** Per-class precision and recall: a detection counts when its class matches and its span overlaps a label. */
function score(seed: number) {
  const corpus = generateCorpus(seed, 400, 1500);
  const tally = Object.fromEntries(BUILTIN_CLASSES.map((c) => [c, { tp: 0, fp: 0, fn: 0 }])) as Record<string, { tp: number; fp: number; fn: number }>;
  const misses: string[] = [];
  for (const s of corpus) {
    const found = detect(s.text);
    const used = new Set<number>();
    for (const l of s.entities) {
      const i = found.findIndex((f, k) => !used.has(k) && f.type === l.type && f.start < l.end && l.start < f.end);
      const t = tally[l.type] as { tp: number; fn: number };
      if (i >= 0) {
        used.add(i);
        t.tp++;
      } else {
        t.fn++;
        misses.push(`FN ${l.type}: ${s.text}`);
      }
    }
    found.forEach((f, k) => {
      if (used.has(k)) return;
      const t = tally[f.type];
      if (t) t.fp++;
      misses.push(`FP ${f.type}: ${s.text.slice(f.start, f.end)} in "${s.text}"`);
    });
  }
  const rows = Object.entries(tally).map(([cls, t]) => ({ cls, precision: t.tp / Math.max(1, t.tp + t.fp), recall: t.tp / Math.max(1, t.tp + t.fn), ...t }));
  return { rows, misses, size: corpus.length };
}

describe("detector accuracy on a generated labelled corpus (400 per class + 1,500 near-misses)", () => {
  for (const seed of [11, 12, 99]) {
    it(`precision and recall ≥ 0.98 for every class (seed ${seed})`, () => {
      const { rows, misses } = score(seed);
      if (process.env.WB_PRINT_ACCURACY)
        console.log(
          rows.map((r) => `${r.cls.padEnd(12)} P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)} (tp ${r.tp}, fp ${r.fp}, fn ${r.fn})`).join("\n"),
          `\n${misses.slice(0, 40).join("\n")}`,
        );
      for (const r of rows) {
        expect(r.precision, `${r.cls} precision; first misses:\n${misses.slice(0, 10).join("\n")}`).toBeGreaterThanOrEqual(0.98);
        expect(r.recall, `${r.cls} recall; first misses:\n${misses.slice(0, 10).join("\n")}`).toBeGreaterThanOrEqual(0.98);
      }
    });
  }
});
