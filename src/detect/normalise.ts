/**
 * Text normalisation before detection, with a map back to the original offsets. Why: a value
 * written with zero-width spaces, soft hyphens, fullwidth digits or a fullwidth "＠" reads the same
 * to a model as the plain value, so detection must see the plain value, while redaction must
 * replace the characters the caller actually sent. Pure, linear, one pass over the code points.
 *
 * What it does, per code point (not whole-string NFKC: combining sequences are not recomposed,
 * since no detected format is written with them):
 * - format characters (Unicode Cf: U+200B–U+200F, U+2060–U+2064, U+00AD, U+FEFF, U+180E, bidi
 *   controls, tags…) and the other default-ignorable code points (variation selectors, U+034F,
 *   Hangul fillers) are removed;
 * - JSON escapes written out in the text ("\u0034", as in tool-call arguments, which are JSON text)
 *   become the character they stand for (then mapped as below);
 * - decimal digits of any script (\p{Nd}: Arabic-Indic, Devanagari, fullwidth…) become ASCII digits;
 * - dashes and minus signs (U+2010–U+2015, U+2212, U+FE58, U+FE63, U+FF0D) become "-";
 * - everything else is replaced by its NFKC form (fullwidth ＠ ． letters, ligatures, superscripts,
 *   circled digits, no-break and ideographic spaces) when that is at most 3 units long, so the
 *   normalised text is at most 3× the original.
 * ASCII text (the common case) is returned as it is, without a map.
 */
import { lastAtOrBefore } from "./sorted.js";

export interface Normalised {
  text: string;
  /**
   * For each UTF-16 unit of `text`, the original offset where the code point it came from starts
   * (`from`) and ends (`to`). Undefined when `text` is the original.
   */
  from?: Int32Array;
  to?: Int32Array;
}

const NON_ASCII = /[\u0080-\uffff]/;
const JSON_ESCAPE = /\\u[0-9a-fA-F]{4}/;

const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1);
/** The UTF-16 unit a JSON escape "\uXXXX" at `i` stands for, or -1. */
function escapedUnit(text: string, i: number): number {
  if (text.charCodeAt(i + 1) !== 117) return -1;
  let u = 0;
  for (let k = 2; k < 6; k++) {
    const h = hexValue(text.charCodeAt(i + k));
    if (h < 0) return -1;
    u = u * 16 + h;
  }
  return u;
}
/**
 * Removed: format characters (Cf) and every other default-ignorable code point, invisible as they
 * are: variation selectors (U+FE00–FE0F, U+E0100–E01EF), the combining grapheme joiner U+034F,
 * Mongolian variation selectors, Hangul fillers (U+115F, U+1160, U+3164, U+FFA0).
 */
const FORMAT = /^[\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
const DIGIT = /^\p{Nd}$/u;
const DASHES = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63, 0xff0d]);

let digitZeros: number[] | undefined;
/** The first code point of every run of ten decimal digits (Unicode keeps each script's 0–9 contiguous). */
function zeros(): number[] {
  if (digitZeros) return digitZeros;
  const z: number[] = [];
  for (let c = 0x80; c < 0x20000; c++) if (DIGIT.test(String.fromCodePoint(c)) && (z.length === 0 || c - (z[z.length - 1] as number) >= 10)) z.push(c);
  digitZeros = z;
  return z;
}

/** ASCII value of a non-ASCII decimal digit. */
function digitValue(cp: number): number {
  const z = zeros();
  return (cp - (z[lastAtOrBefore(z, cp)] as number)) % 10;
}

/** What one non-ASCII code point becomes ("" when removed); memoised, texts reuse few distinct characters. */
const memo = new Map<number, string>();
function mapCodePoint(cp: number): string {
  const hit = memo.get(cp);
  if (hit !== undefined) return hit;
  const ch = String.fromCodePoint(cp);
  let out: string;
  if (FORMAT.test(ch)) out = "";
  else if (DIGIT.test(ch)) out = String(digitValue(cp));
  else if (DASHES.has(cp)) out = "-";
  else {
    // Forms longer than 3 units ("ﷺ" → 18 letters) are kept as they are: no detected format is
    // written with them, and 18× growth of a hostile body would be the cost of scanning it.
    const k = ch.normalize("NFKC");
    out = k.length <= 3 ? k : ch;
  }
  if (memo.size < 65_536) memo.set(cp, out);
  return out;
}

/** Per BMP code unit: 0 not yet known, 1 maps to itself, 2 changes (removed, replaced, expanded). */
const identity = new Uint8Array(0x10000);

/**
 * One pass over the code units: output, `from` and `to` are typed arrays grown by doubling, and the
 * output is turned into a string once at the end (per-character string pieces cost 10× more on
 * text that is all fullwidth or CJK).
 */
export function normalise(text: string): Normalised {
  if (!NON_ASCII.test(text) && !JSON_ESCAPE.test(text)) return { text };
  let cap = text.length + 16;
  let out = new Uint16Array(cap);
  let from = new Int32Array(cap);
  let to = new Int32Array(cap);
  const grow = (need: number) => {
    cap = Math.max(need, cap * 2);
    const o = new Uint16Array(cap);
    o.set(out);
    out = o;
    const f = new Int32Array(cap);
    f.set(from);
    from = f;
    const t = new Int32Array(cap);
    t.set(to);
    to = t;
  };
  let n = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const u = c === 92 ? escapedUnit(text, i) : -1;
    if (u >= 0) {
      // "\u0034" is "4" to whoever parses the JSON text it sits in (tool arguments): six units, one character.
      const m = u < 0x80 || (u >= 0xd800 && u <= 0xdfff) ? String.fromCharCode(u) : mapCodePoint(u);
      if (n + m.length > cap) grow(n + m.length);
      for (let k = 0; k < m.length; k++) {
        out[n] = m.charCodeAt(k);
        from[n] = i;
        to[n] = i + 6;
        n++;
      }
      i += 6;
      continue;
    }
    let kind = c < 0x80 ? 1 : identity[c];
    if (kind === 0 && (c < 0xd800 || c > 0xdfff)) {
      kind = mapCodePoint(c) === String.fromCharCode(c) ? 1 : 2;
      identity[c] = kind;
    }
    if (kind === 1) {
      if (n >= cap) grow(n + 1);
      out[n] = c;
      from[n] = i;
      to[n] = i + 1;
      n++;
      i++;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    const w = cp > 0xffff ? 2 : 1;
    const m = mapCodePoint(cp);
    if (n + m.length > cap) grow(n + m.length);
    for (let k = 0; k < m.length; k++) {
      out[n] = m.charCodeAt(k);
      from[n] = i;
      to[n] = i + w;
      n++;
    }
    i += w;
  }
  return { text: Buffer.from(out.buffer, 0, n * 2).toString("utf16le"), from: from.subarray(0, n), to: to.subarray(0, n) };
}

/** Original [start, end) of the normalised span [start, end). */
export function originalSpan(n: Normalised, start: number, end: number): [number, number] {
  if (!n.from || !n.to) return [start, end];
  return [n.from[start] as number, n.to[end - 1] as number];
}
