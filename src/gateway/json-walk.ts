/**
 * Every string in a JSON value, wherever it sits, and a way to put changed strings back. The
 * gateway scans what it forwards and what it answers through this walk, not through a list of the
 * fields an API is known to carry text in: a field nobody thought of (a message `name`, tool
 * arguments, `user`, `stop`, an object key) is scanned all the same. Numbers long enough to hold a
 * card, phone or SSN are scanned as their decimal text. Iterative, with a depth bound, so a hostile
 * body cannot overflow the stack. Pure.
 */

export type JsonPath = readonly (string | number)[];

/** Where a container sits: its key and its parent's node (the root has none). Shared by all its children. */
interface PathNode {
  parent: PathNode | undefined;
  key: string | number;
}

/**
 * One scannable place. The path is built only when asked for (replacing a changed text): a path
 * array per string was most of the walk's allocation, on every request and every answer.
 */
export class Slot {
  constructor(
    /** The text scanned: the string, the object key, or a number's decimal form. */
    readonly text: string,
    /** Where it sits: a string value, an object key (path ends at the key's value) or a number. */
    readonly at: "value" | "key" | "number",
    /** The key the value sits under (or the key itself), for callers that treat some fields as structural; undefined at the root. */
    readonly field: string | number | undefined,
    private readonly parent: PathNode | undefined,
  ) {}

  get path(): JsonPath {
    if (this.field === undefined) return [];
    const keys: (string | number)[] = [this.field];
    for (let n = this.parent; n; n = n.parent) keys.push(n.key);
    return keys.reverse();
  }
}

export class JsonTooDeep extends Error {
  constructor(readonly limit: number) {
    super(`the JSON is nested deeper than ${limit} levels`);
  }
}

/**
 * The strings and object keys in `value` (what the walk makes a slot of, numbers aside), counting
 * no further than `limit + 1`. Cheap (no paths, no allocation per value), so a body with too many
 * texts can be refused before the shape check and the walk, which cost microseconds per value on
 * the event loop (250,000 empty messages: seconds).
 */
export function countTexts(value: unknown, limit: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && n <= limit) {
    const v = stack.pop();
    if (typeof v === "string") n++;
    else if (Array.isArray(v)) {
      for (const x of v)
        if (x !== null && typeof x === "object") stack.push(x);
        else if (typeof x === "string") n++;
    } else if (v !== null && typeof v === "object") {
      for (const k in v) {
        n++;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return n;
}

/**
 * Whether `test` holds for any string or object key of `value` (numbers are not texts here, as with
 * walkJson's `numbers: false`), stopping at the first. True also when a container sits `maxDepth`
 * levels deep or deeper, where walkJson would throw JsonTooDeep: the caller then takes walkJson's
 * path and refuses it there. No slots, no paths: for checking that nothing in a value needs them.
 */
export function someText(value: unknown, test: (text: string) => boolean, maxDepth: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (typeof v === "string") {
      if (test(v)) return true;
    } else if (v !== null && typeof v === "object") {
      if (depth >= maxDepth) return true;
      if (Array.isArray(v))
        for (const x of v) {
          values.push(x);
          depths.push(depth + 1);
        }
      else
        for (const k in v) {
          if (test(k)) return true;
          values.push((v as Record<string, unknown>)[k]);
          depths.push(depth + 1);
        }
    }
  }
  return false;
}

/** Numbers from 100,000 up can be an SSN, a card, a phone number or an IBAN's digits. */
const SCAN_NUMBERS_FROM = 100_000;

/**
 * The scannable slots of `value` in document order (a key before its value). `numbers: false` for
 * answers, whose large numbers are timestamps and counts the gateway must not turn into text.
 */
export function walkJson(value: unknown, o: { maxDepth?: number; numbers?: boolean } = {}): Slot[] {
  const maxDepth = o.maxDepth ?? 64;
  const numbers = o.numbers ?? true;
  const slots: Slot[] = [];
  // The stack as parallel arrays (value, its parent container's node, its key, its depth): no object per entry.
  const vs: unknown[] = [value];
  const parents: (PathNode | undefined)[] = [undefined];
  const keys: (string | number | undefined)[] = [undefined];
  const depths: number[] = [0];
  while (vs.length > 0) {
    const v = vs.pop();
    const parent = parents.pop();
    const field = keys.pop();
    const depth = depths.pop() as number;
    if (typeof v === "string") slots.push(new Slot(v, "value", field, parent));
    else if (typeof v === "number") {
      if (numbers && Math.abs(v) >= SCAN_NUMBERS_FROM) slots.push(new Slot(String(v), "number", field, parent));
    } else if (v === KEY) slots.push(new Slot(String(field), "key", field, parent));
    else if (v !== null && typeof v === "object") {
      if (depth >= maxDepth) throw new JsonTooDeep(maxDepth);
      const node = field === undefined ? undefined : { parent, key: field };
      // Pushed in reverse so that they pop in document order.
      if (Array.isArray(v))
        for (let i = v.length - 1; i >= 0; i--) {
          const x = v[i];
          // Values that make no slot (token ids, flags, null) are not pushed: a million token ids cost a loop, not a million entries.
          if (x === null || typeof x === "boolean" || (typeof x === "number" && !(numbers && Math.abs(x) >= SCAN_NUMBERS_FROM))) continue;
          vs.push(x);
          parents.push(node);
          keys.push(i);
          depths.push(depth + 1);
        }
      else {
        const ks = Object.keys(v);
        for (let i = ks.length - 1; i >= 0; i--) {
          const k = ks[i] as string;
          vs.push((v as Record<string, unknown>)[k], KEY);
          parents.push(node, node);
          keys.push(k, k);
          depths.push(depth + 1, depth + 1);
        }
      }
    }
  }
  return slots;
}
const KEY = Symbol("key");

/**
 * A copy of `value` with the slots whose text changed replaced: string values by the new string,
 * numbers by the new text (a redacted number becomes a string), keys renamed. Slots must come from
 * walkJson(value); `texts[i]` is the new text of `slots[i]`.
 */
export function replaceSlots(value: unknown, slots: readonly Slot[], texts: readonly string[]): unknown {
  const copy = structuredClone(value);
  const changed: { s: Slot; t: string; path: JsonPath }[] = [];
  slots.forEach((s, i) => {
    const t = texts[i] as string;
    if (t !== s.text) changed.push({ s, t, path: s.path });
  });
  // Keys last and deepest first, so that renaming a key does not move a path still to be replaced.
  changed.sort((a, b) => rank(a.s, a.path) - rank(b.s, b.path));
  for (const { s, t, path } of changed) {
    const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], copy) as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (s.at === "key") {
      const entries = Object.entries(parent).map(([k, v]) => (k === last ? [t, v] : [k, v]));
      for (const k of Object.keys(parent)) delete parent[k];
      for (const [k, v] of entries) parent[k as string] = v;
    } else if (path.length === 0) return t;
    else parent[last] = t;
  }
  return copy;
}
const rank = (s: Slot, path: JsonPath) => (s.at === "key" ? 1_000_000 - path.length : 0);
