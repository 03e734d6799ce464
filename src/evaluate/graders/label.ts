/** Classification labels: per-case correctness, plus suite-level accuracy and macro-F1. */
import { binary, type Grader } from "./types.js";

/** "Label: Shipping." → "shipping" */
export function normaliseLabel(s: string): string {
  return s
    .trim()
    .replace(/^(label|answer|category|class)\s*[:=-]\s*/i, "")
    .replace(/^["'`*\s]+|["'`*.\s]+$/g, "")
    .toLowerCase();
}

export const label: Grader<"label"> = (e, { output }) => {
  const gold = normaliseLabel(e.value);
  const predicted = normaliseLabel(output);
  return binary("label", predicted === gold, { gold, predicted });
};

export interface LabelMetrics {
  n: number;
  accuracy: number;
  macroF1: number;
  perLabel: Record<string, { precision: number; recall: number; f1: number; support: number }>;
}

/** Macro-F1 over the gold label set; predictions outside it count as wrong for every class. */
export function labelMetrics(pairs: readonly { gold: string; predicted: string }[]): LabelMetrics {
  const labels = [...new Set(pairs.map((p) => p.gold))].sort();
  const perLabel: LabelMetrics["perLabel"] = {};
  let f1Sum = 0;
  for (const l of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const p of pairs) {
      if (p.predicted === l && p.gold === l) tp++;
      else if (p.predicted === l) fp++;
      else if (p.gold === l) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perLabel[l] = { precision, recall, f1, support: tp + fn };
    f1Sum += f1;
  }
  const correct = pairs.filter((p) => p.gold === p.predicted).length;
  return {
    n: pairs.length,
    accuracy: pairs.length ? correct / pairs.length : Number.NaN,
    macroF1: labels.length ? f1Sum / labels.length : Number.NaN,
    perLabel,
  };
}
