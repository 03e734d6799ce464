/**
 * Which rows of a source become cases: all of them; the first `limit` without a seed; or, with a
 * seed, `limit` rows drawn without replacement by a seeded Fisher–Yates (the same rows for the same
 * seed and row count, on every machine), returned in the source's order.
 */
import { seededRng } from "../../stats/index.js";

export function pickRows(total: number, limit: number | undefined, seed: number | undefined): number[] {
  const n = limit === undefined ? total : Math.min(limit, total);
  if (seed === undefined || n === total) return Array.from({ length: n }, (_, i) => i);
  const rng = seededRng(seed);
  // A partial shuffle over a virtual array 0..total-1: only swapped positions are stored.
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (total - i));
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(atJ);
  }
  return out.sort((a, b) => a - b);
}
