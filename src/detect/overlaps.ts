/** Overlap resolution: from all findings of all detectors, one sorted, non-overlapping list. Pure. */
import type { Entity } from "./types.js";

/** When two findings overlap, the more specific class wins. */
const STRONG_CONTAINERS = new Set(["IBAN", "SECRET", "EMAIL"]);
export const PRIORITY: Record<string, number> = { SECRET: 0, CREDIT_CARD: 1, IBAN: 2, US_SSN: 3, EMAIL: 4, IP_ADDRESS: 5, PHONE: 6 };

/** A strongly structured container (an IBAN's mod-97, a key, an address, an encoded run) keeps what it holds. */
const isContainer = (e: Entity) => STRONG_CONTAINERS.has(e.type) || e.rule.startsWith("base64:") || e.rule.startsWith("hex:");

export function resolveOverlaps(found: Entity[]): Entity[] {
  found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || (PRIORITY[a.type] ?? 9) - (PRIORITY[b.type] ?? 9));
  // `kept` stays sorted and non-overlapping, and no kept entity starts after `e`: only the last one
  // can overlap it (checking all of them made detection quadratic in the number of entities).
  const kept: Entity[] = [];
  for (const e of found) {
    const last = kept.length - 1;
    const k = kept[last];
    if (!k || !(e.start < k.end && k.start < e.end)) {
      kept.push(e);
      continue;
    }
    // 16 digits inside an IBAN pass Luhn one time in ten by chance: the container keeps them.
    if (isContainer(k) && k.start <= e.start && e.end <= k.end) continue;
    if (isContainer(e) && e.start <= k.start && k.end <= e.end) {
      kept[last] = e;
      continue;
    }
    // Prefer the more specific class over a longer but vaguer match (e.g. a card inside a "phone" run).
    if ((PRIORITY[e.type] ?? 9) < (PRIORITY[k.type] ?? 9) && e.end - e.start >= (k.end - k.start) / 2) kept[last] = e;
  }
  return kept.sort((a, b) => a.start - b.start);
}
