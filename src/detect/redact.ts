/** Build detector sets, detect (with a cache for repeated texts), and replace entities by numbered placeholders. Pure. */
import type { CountryCode } from "libphonenumber-js";
import { type CustomClass, customDetector, detectCreditCard, detectEmail, detectIban, detectIp, detectSsn } from "./detectors.js";
import { phoneDetector } from "./phone.js";
import { scanAll, scanText } from "./pipeline.js";
import { mayHoldValue, vouchFor } from "./prefilter.js";
import { detectSecret } from "./secrets.js";
import { BUILTIN_CLASSES, type Detector, type Entity } from "./types.js";

export interface DetectOptions {
  classes?: readonly string[];
  custom?: readonly CustomClass[];
  defaultCountry?: CountryCode;
}

export function buildDetectors(o: DetectOptions = {}): Detector[] {
  const want = new Set(o.classes ?? [...BUILTIN_CLASSES, ...(o.custom ?? []).map((c) => c.name)]);
  const all: [string, Detector][] = [
    ["SECRET", detectSecret],
    ["CREDIT_CARD", detectCreditCard],
    ["IBAN", detectIban],
    ["US_SSN", detectSsn],
    ["EMAIL", detectEmail],
    ["IP_ADDRESS", detectIp],
    ["PHONE", vouchFor(phoneDetector((o.defaultCountry?.toUpperCase() ?? "US") as CountryCode))],
    ...(o.custom ?? []).map((c): [string, Detector] => [c.name, customDetector(c)]),
  ];
  return all.filter(([name]) => want.has(name)).map(([, d]) => d);
}

/** A cache of detector sets by their options (each built once; cleared past 64 sets, as options come from config and few differ). */
export function detectorSets(): (options: DetectOptions) => Detector[] {
  const sets = new Map<string, Detector[]>();
  return (options) => {
    const key = JSON.stringify(options);
    let d = sets.get(key);
    if (!d) {
      if (sets.size >= 64) sets.clear();
      d = buildDetectors(options);
      sets.set(key, d);
    }
    return d;
  };
}

let builtins: Detector[] | undefined;
/** The built-in detectors with default options, built once (they are pure and shareable). */
export function defaultDetectors(): readonly Detector[] {
  builtins ??= buildDetectors();
  return builtins;
}

/**
 * Results for texts seen recently, per detector set: system prompts and chat histories are sent
 * again with every request, and detection is the gateway's largest cost after HTTP itself.
 * A text is kept only once it has been seen twice (a 30-bit hash of each text seen once is kept in
 * a ring, not the text): caching every unique ticket made each young-generation GC copy and promote
 * them, 4–7 ms pauses every ~0.1 s at 1,000 req/s. Bounded: texts up to 16 KiB, 4,096 results,
 * 8,192 hashes, oldest evicted first.
 */
interface DetectCache {
  results: Map<string, Entity[]>;
  seen: Set<number>;
  ring: Int32Array;
  at: number;
}
const recent = new WeakMap<readonly Detector[], DetectCache>();
const CACHE_TEXT_MAX = 16_384;
const CACHE_ENTRIES = 4096;
const SEEN_ENTRIES = 8192;

/** FNV-1a over the UTF-16 code units, folded to 30 bits (a small integer: no heap object in a Set). */
function hash30(text: string): number {
  let h = 0x811c9dc5 ^ text.length;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

/** All entities, non-overlapping, in order. */
export function detect(text: string, detectors: readonly Detector[] = defaultDetectors()): Entity[] {
  if (!mayHoldValue(text, detectors)) return [];
  if (text.length > CACHE_TEXT_MAX) return scanAll(text, detectors);
  let cache = recent.get(detectors);
  if (!cache) {
    cache = { results: new Map(), seen: new Set(), ring: new Int32Array(SEEN_ENTRIES).fill(-1), at: 0 };
    recent.set(detectors, cache);
  }
  const hit = cache.results.get(text);
  if (hit) return hit.map((e) => ({ ...e }));
  const found = scanAll(text, detectors);
  const h = hash30(text);
  if (!cache.seen.has(h)) {
    const old = cache.ring[cache.at] as number;
    if (old >= 0) cache.seen.delete(old);
    cache.ring[cache.at] = h;
    cache.at = (cache.at + 1) % SEEN_ENTRIES;
    cache.seen.add(h);
    return found;
  }
  if (cache.results.size >= CACHE_ENTRIES) cache.results.delete(cache.results.keys().next().value as string);
  cache.results.set(
    text,
    found.map((e) => ({ ...e })),
  );
  return found;
}

/** detect() without the cache, for texts that will not be seen again (a stream's moving window). */
export function detectUncached(text: string, detectors: readonly Detector[]): Entity[] {
  return scanText(text, detectors);
}

export interface Redaction {
  redacted: string;
  entities: Entity[];
  /** Placeholder → original text, to restore answers for the caller. */
  placeholders: Record<string, string>;
}

/** Placeholder numbering shared across the texts of one request (so [EMAIL_1] means one value). */
export interface RedactState {
  counters: Map<string, number>;
  byValue: Map<string, string>;
}

export const newRedactState = (): RedactState => ({ counters: new Map(), byValue: new Map() });

/** Replace each entity by [TYPE_N]; the same value gets the same placeholder. */
export function redact(
  text: string,
  entities: readonly Entity[],
  keep: (e: Entity) => boolean = () => false,
  state: RedactState = newRedactState(),
): Redaction {
  const { counters, byValue } = state;
  const placeholders: Record<string, string> = {};
  let out = "";
  let pos = 0;
  for (const e of entities) {
    if (keep(e)) continue;
    const value = text.slice(e.start, e.end);
    const key = `${e.type}\u0000${value}`;
    let ph = byValue.get(key);
    if (!ph) {
      const n = (counters.get(e.type) ?? 0) + 1;
      counters.set(e.type, n);
      ph = `[${e.type}_${n}]`;
      byValue.set(key, ph);
      placeholders[ph] = value;
    }
    out += text.slice(pos, e.start) + ph;
    pos = e.end;
  }
  return { redacted: out + text.slice(pos), entities: [...entities], placeholders };
}

/** Put the original values back where an answer repeats placeholders. */
export function restore(text: string, placeholders: Record<string, string>): string {
  // Bounded quantifiers: an answer of "[AAAA…" megabytes long must not make the regex backtrack over it.
  return text.replace(/\[[A-Z][A-Z0-9_]{0,63}_\d{1,9}\]/g, (ph) => placeholders[ph] ?? ph);
}
