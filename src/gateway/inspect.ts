/**
 * The request step of the gateway: every string of the body (json-walk.ts) scanned for sensitive
 * data, with the texts people type (message contents, parts, tool arguments…) also scanned joined
 * in order, so a value split across messages or parts is found; then, per target, the body with
 * exactly the places where values were found replaced. Pure apart from the detection it is given.
 */
import { type Detector, detect, type Entity, MAX_VALUES_PER_REQUEST, newRedactState, redact, TooManyValues } from "../detect/index.js";
import { replaceSlots, type Slot, walkJson } from "./json-walk.js";
import { STRUCTURAL_FIELDS } from "./request-shape.js";
import { sentValues } from "./response-scan.js";

/** A structural string or key longer than this is handed to `across` too (which may run off the event loop). */
const LARGE_ALONE = 4096;

/** Detection over the texts of one request, joined where adjacent (see detectAcross in detect/). */
export type DetectTexts = (texts: readonly string[], detectors: readonly Detector[]) => Entity[][] | Promise<Entity[][]>;

export interface Inspection {
  slots: Slot[];
  /** Entities per slot, offsets in the slot's text. */
  entities: Entity[][];
  /** Entities found, by class. */
  counts: Record<string, number>;
}

/**
 * Scan every slot. Texts people type are scanned together (adjacent ones joined), structural
 * fields and object keys each alone.
 */
export async function inspectBody(body: unknown, detectors: readonly Detector[], across: DetectTexts): Promise<Inspection> {
  const slots = walkJson(body);
  const prose: number[] = [];
  const large: number[] = [];
  const entities: Entity[][] = slots.map((s, i) => {
    if (s.at === "value" && !STRUCTURAL_FIELDS.has(s.field)) prose.push(i);
    else if (s.text.length > LARGE_ALONE) large.push(i);
    else return detect(s.text, detectors);
    return [];
  });
  // A long key or structural value is scanned alone, but like the texts (off the event loop when large).
  for (const i of large) entities[i] = (await across([(slots[i] as Slot).text], detectors))[0] ?? [];
  const found = await across(
    prose.map((i) => (slots[i] as Slot).text),
    detectors,
  );
  prose.forEach((slot, j) => {
    entities[slot] = found[j] ?? [];
  });
  const values = entities.reduce((n, list) => n + list.length, 0);
  if (values > MAX_VALUES_PER_REQUEST) throw new TooManyValues(values);
  const counts: Record<string, number> = {};
  for (const list of entities) for (const e of list) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return { slots, entities, counts };
}

export interface Redacted {
  body: unknown;
  /** Placeholder → original value, to restore in answers (route `restore: true`). */
  placeholders: Record<string, string>;
  /** Entities replaced, by class. */
  replaced: Record<string, number>;
}

/** The body with every entity of a class in `classes` replaced by a placeholder, numbered across the whole request. */
export function redactBody(body: unknown, ins: Inspection, classes: readonly string[]): Redacted {
  if (classes.length === 0) return { body, placeholders: {}, replaced: {} };
  const state = newRedactState();
  const placeholders: Record<string, string> = {};
  const replaced: Record<string, number> = {};
  const texts = ins.slots.map((s, i) => {
    const r = redact(s.text, ins.entities[i] ?? [], (e) => !classes.includes(e.type), state);
    Object.assign(placeholders, r.placeholders);
    for (const e of ins.entities[i] ?? []) if (classes.includes(e.type)) replaced[e.type] = (replaced[e.type] ?? 0) + 1;
    return r.redacted;
  });
  return { body: replaceSlots(body, ins.slots, texts), placeholders, replaced };
}

/** The (class, value) pairs a request carried: seen again in an answer, they are not new data. */
export const sentValuesOf = (ins: Inspection): Set<string> =>
  sentValues(
    ins.slots.map((s) => s.text),
    ins.entities,
  );

/** Characters of text in the request, for the token estimate behind tpm limits. */
export const textLength = (ins: Inspection) => ins.slots.reduce((a, s) => a + s.text.length, 0);
