/**
 * Email, card, IBAN, SSN, IP and custom-class detectors (secrets: secrets.ts, phones: phone.ts). Each
 * is linear in the text: bounded quantifiers, no nested ambiguity, and loops instead of regexes where
 * a run can be megabytes long. They run on normalised text (normalise.ts). Pure.
 */

import type { Detector, Entity } from "./types.js";
import { cardNetwork, IBAN_LENGTHS, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from "./validators.js";

/** Local parts and domains may hold letters of any script (IDN: "用户@例子.中国", "info@münchen.de"). */
const LOCAL = /[\p{L}\p{N}\p{M}._%+\-']/u;
const DOMAIN = /[\p{L}\p{N}\p{M}.-]/u;
const ASCII_LETTERS = /^[A-Za-z]{2,24}$/;
const OTHER_LETTERS = /^[\u0080-\uffff]{2,24}$/;
/** Scripts written without spaces: an ASCII address is not glued to the words around it ("邮箱jane@example.com谢谢"). */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const isAscii = (c: string) => c.charCodeAt(0) < 0x80;

/**
 * Every match of a global (or sticky) expression, in order: exec() on the shared expression from
 * the start, so no clone per call as matchAll makes. The callback must not run `re` itself.
 */
export function eachMatch(re: RegExp, text: string, f: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    // An empty match: step on by one character (a whole code point under /u), as matchAll does.
    if (m[0].length === 0) re.lastIndex += re.unicode && (text.codePointAt(re.lastIndex) ?? 0) > 0xffff ? 2 : 1;
    const next = re.lastIndex;
    f(m);
    re.lastIndex = next;
  }
  re.lastIndex = 0;
}

/** Start of the local part ending before "@" at `at` (quoted: `"john doe"@…`), or `at` when none. */
function localStart(text: string, at: number): number {
  if (text[at - 1] === '"') {
    const q = text.lastIndexOf('"', at - 2);
    if (q >= 0 && at - q <= 66 && at - q > 2 && !/[\n@"]/.test(text.slice(q + 1, at - 1))) return q;
    return at;
  }
  let s = at;
  let ascii = false;
  while (s > 0 && at - s < 64) {
    const c = text[s - 1] as string;
    if (!LOCAL.test(c) || (ascii && UNSPACED.test(c))) break;
    if (isAscii(c)) ascii = true;
    s--;
  }
  while (s < at && (text[s] === "." || text[s] === "'")) s++;
  return s;
}

/** End of a valid domain starting at `from`, or -1. The top-level label is ASCII letters, other letters, or xn--. */
function domainEnd(text: string, from: number): number {
  let e = from;
  while (e < text.length && e - from <= 253 && DOMAIN.test(text[e] as string)) e++;
  while (e > from && (text[e - 1] === "." || text[e - 1] === "-")) e--;
  if (e === from) return -1;
  const dot = from + text.slice(from, e).lastIndexOf("."); // within the domain: lastIndexOf on the text would scan back to its start
  if (dot < from) return -1;
  let tld = text.slice(dot + 1, e);
  // ".com谢谢": the address ends where the letters change script.
  const mixed = /^[A-Za-z]+(?=[\u0080-\uffff])/.exec(tld);
  if (mixed && UNSPACED.test(tld)) {
    tld = mixed[0];
    e = dot + 1 + tld.length;
  }
  if (!(ASCII_LETTERS.test(tld) || OTHER_LETTERS.test(tld) || /^xn--[a-z0-9-]{2,59}$/i.test(tld))) return -1;
  const labels = text.slice(from, e).split(".");
  if (labels.some((l) => l === "" || l.length > 63 || l.startsWith("-") || l.endsWith("-"))) return -1;
  return e;
}

/**
 * Emails by scanning out from each "@" (no regex backtracking): at most 64 characters back and 253
 * on, so the work per "@" is bounded and the whole scan linear. A fullwidth "＠" or "．" was made
 * ASCII by normalisation before this runs.
 */
export const detectEmail: Detector = (text) => {
  const out: Entity[] = [];
  let from = 0;
  for (let at = text.indexOf("@", from); at >= 0; at = text.indexOf("@", from)) {
    from = at + 1;
    const s = localStart(text, at);
    if (s === at) continue;
    const e = domainEnd(text, at + 1);
    if (e < 0) continue;
    out.push({ type: "EMAIL", start: s, end: e, rule: text[s] === '"' ? "email-quoted" : "email" });
    from = e;
  }
  return out;
};

/**
 * Maximal runs of digit groups joined by what people type between them: one or two spaces or tabs,
 * a dash, dot or slash (with a space either side or not), or a line break (spaces around it). Each
 * separator holds a non-digit, so a run splits into groups one way only. A run does not start
 * inside a word, right after "+" or a "-" that follows a digit (a phone number in E.164, a range), or inside
 * a longer dotted or slashed number ("1.4111…", "10/4111…"), and it does not end glued to a letter.
 * A loop, not a regex: a greedy regex over a megabyte of digit groups overflowed V8's backtracking
 * stack ("Maximum call stack size exceeded").
 */
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || c === 9;
const isWord = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Length of the separator at `i` when a digit follows it, else 0. */
function separatorAt(text: string, i: number): number {
  let j = i;
  while (j - i < 3 && isSpace(text.charCodeAt(j))) j++;
  const spaces = j - i;
  const c = text.charCodeAt(j);
  if (c === 45 || c === 46 || c === 47) {
    if (spaces > 1) return 0;
    const k = isSpace(text.charCodeAt(j + 1)) ? j + 2 : j + 1;
    return isDigit(text.charCodeAt(k)) ? k - i : 0;
  }
  if (c === 10 || (c === 13 && text.charCodeAt(j + 1) === 10)) {
    let k = j + (c === 13 ? 2 : 1);
    for (let m = 0; m < 3 && isSpace(text.charCodeAt(k)); m++) k++;
    return isDigit(text.charCodeAt(k)) ? k - i : 0;
  }
  return spaces >= 1 && spaces <= 2 && isDigit(c) ? spaces : 0;
}

function mayStartAt(text: string, s: number): boolean {
  if (s === 0) return true;
  const p = text.charCodeAt(s - 1);
  if (isWord(p) || p === 43) return false;
  // After "-": not when it continues a number or a phone ("10-4111…", "+44-20…"); a minus or a
  // hyphen after a word or a space ("-4111…", "card-4111…") does not hide a value.
  if (p === 45) return !(s >= 2 && (isDigit(text.charCodeAt(s - 2)) || text.charCodeAt(s - 2) === 43));
  return !((p === 46 || p === 47) && isDigit(text.charCodeAt(s - 2)));
}

function digitRuns(text: string, f: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && !isDigit(text.charCodeAt(i))) i++;
    if (i >= n) return;
    const start = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    let end = i;
    let beforeLast = -1; // end of the group before the last one
    for (let sep = separatorAt(text, i); sep > 0; sep = separatorAt(text, i)) {
      beforeLast = end;
      i += sep;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      end = i;
    }
    let s = start;
    while (s < end && !mayStartAt(text, s)) {
      while (s < end && isDigit(text.charCodeAt(s))) s++;
      if (s < end) s += separatorAt(text, s);
    }
    if (end < n && isWord(text.charCodeAt(end))) end = beforeLast; // the last group is glued to a word
    if (s < end) f(s, end);
  }
}

/**
 * The digit groups of one CARD match in typed arrays (a match can be a whole megabyte of "1-2.3 4/…":
 * an object per group made the garbage collector's work grow faster than the text). `sep[i]` is the
 * kind of separator before group i as a bit: 1 space, 2 dash, 4 dot, 8 slash, 16 line break (0 for
 * the first).
 */
interface Groups {
  start: Int32Array;
  end: Int32Array;
  sep: Uint8Array;
  count: number;
}

const SEP_BIT: Record<string, number> = { " ": 1, "\t": 1, "\r": 1, "-": 2, ".": 4, "/": 8 };

function digitGroups(raw: string): Groups {
  const cap = (raw.length >> 1) + 1;
  const g: Groups = { start: new Int32Array(cap), end: new Int32Array(cap), sep: new Uint8Array(cap), count: 0 };
  let i = 0;
  let sep = 0;
  while (i < raw.length) {
    const k = g.count++;
    g.start[k] = i;
    while (i < raw.length && isDigit(raw.charCodeAt(i))) i++;
    g.end[k] = i;
    g.sep[k] = sep;
    sep = 1;
    for (; i < raw.length && !isDigit(raw.charCodeAt(i)); i++) {
      const c = raw[i] as string;
      if (c === "\n") sep = 16;
      else if (sep !== 16 && (SEP_BIT[c] ?? 1) > 1) sep = SEP_BIT[c] as number;
    }
  }
  return g;
}

/** The last group of the longest card starting at group `from`, or -1. */
function cardAt(raw: string, g: Groups, from: number): number {
  const lead = raw.charCodeAt(g.start[from] as number);
  if (lead < 50 || lead > 54) return -1; // cards start with 2–6
  let digits = "";
  let seps = 0; // the kinds of separator inside the card
  let best = -1;
  for (let j = from; j < g.count; j++) {
    const len = (g.end[j] as number) - (g.start[j] as number);
    // Printed cards group 3+ digits (4-4-4-4, 4-6-5): shorter groups are dates, versions, phone parts.
    if (len < 3 && g.count > 1) break;
    if (j > from) seps |= g.sep[j] as number;
    digits += raw.slice(g.start[j], g.end[j]);
    if (digits.length > 19) break; // at most 19 digits: bounded work per group, linear overall
    if (digits.length >= 12 && cardNetwork(digits) && luhnValid(digits)) best = j;
  }
  if (best < 0) return -1;
  // Part of a longer run of like groups ("Order 4755 6879 3747 3985 0012"): the run is the number,
  // and it is not a card. A neighbour that is short or joined by another kind of separator
  // ("order 12 4111 …", "+44 20 … 4111-1111-…") does not count.
  const like = (n: number, sep: number) => n >= 0 && n < g.count && (g.end[n] as number) - (g.start[n] as number) >= 3 && (seps === 0 || (seps & sep) !== 0);
  if (like(from - 1, g.sep[from] as number) || like(best + 1, g.sep[best + 1] as number)) return -1;
  return best;
}

/** Cards: Luhn and the networks' prefixes and lengths decide, whatever the separators. */
export const detectCreditCard: Detector = (text) => {
  const out: Entity[] = [];
  digitRuns(text, (start, end) => {
    if (end - start < 12) return; // fewer than 12 digits: no card (most digit runs: dates, amounts, ids)
    // The body of an IBAN-shaped token ("DE28 2398 9719 1195 1125 34", its checksum wrong) is not a card.
    if (/\b[A-Z]{2}\d{2}[ -]{0,2}$/.test(text.slice(Math.max(0, start - 7), start))) return;
    const raw = text.slice(start, end);
    const g = digitGroups(raw);
    let from = 0;
    while (from < g.count) {
      const found = cardAt(raw, g, from);
      if (found >= 0) {
        out.push({ type: "CREDIT_CARD", start: start + (g.start[from] as number), end: start + (g.end[found] as number), rule: "luhn" });
        from = found + 1;
      } else from++;
    }
  });
  return out;
};

/** IBANs as printed or typed: groups of four joined by nothing, a space, two spaces or a dash. */
const IBAN = /\b[A-Z]{2}\d{2}(?:[ -]{0,2}[A-Z0-9]{4}){2,7}(?:[ -]{0,2}[A-Z0-9]{1,4})?\b/gi;
export const detectIban: Detector = (text) => {
  const out: Entity[] = [];
  eachMatch(IBAN, text, (m) => {
    // The pattern can run on into a following word ("ES04… asap"): cut the match at the country's
    // IBAN length, and accept it only if the cut falls at a word boundary.
    const len = IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (len === undefined) return;
    let n = 0;
    let end = 0;
    while (end < m[0].length && n < len) {
      if (m[0][end] !== " " && m[0][end] !== "-") n++;
      end++;
    }
    if (n !== len || /[A-Za-z0-9]/.test(m[0][end] ?? "")) return;
    const candidate = m[0].slice(0, end);
    if (ibanValid(candidate.replace(/[ -]/g, ""))) out.push({ type: "IBAN", start: m.index, end: m.index + end, rule: "mod97" });
  });
  return out;
};

const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g;
/** Nine digits written together are an SSN only next to a word that says so (in English, German, French or Chinese). */
const SSN_BARE = /(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])/g;
const SSN_CONTEXT = /\bssn\b|\bss#|\bsoc(?:ial)?\.?[ -]?sec(?:urity)?\b|sozialversicherung|s[ée]curit[ée] sociale|社会安全|社會安全|社会保障号/i;
export const detectSsn: Detector = (text) => {
  const out: Entity[] = [];
  eachMatch(SSN, text, (m) => {
    if (ssnValid(m[1] as string, m[3] as string, m[4] as string)) out.push({ type: "US_SSN", start: m.index, end: m.index + m[0].length, rule: "ssa" });
  });
  eachMatch(SSN_BARE, text, (m) => {
    if (!ssnValid(m[1] as string, m[2] as string, m[3] as string)) return;
    const near = text.slice(Math.max(0, m.index - 48), Math.min(text.length, m.index + 9 + 24));
    if (SSN_CONTEXT.test(near)) out.push({ type: "US_SSN", start: m.index, end: m.index + 9, rule: "ssa-context" });
  });
  return out;
};

const IPV4 = /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g;
// Not inside a longer token; a ":" just before is a label's ("地址：2001:db8::1", NFKC turns "：" into ":").
const IPV6 = /(?<![\w.]|[\w.:]:)(?!:[^:])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])/gi;
export const detectIp: Detector = (text) => {
  const out: Entity[] = [];
  eachMatch(IPV4, text, (m) => {
    const before = text.slice(Math.max(0, m.index - 10), m.index).toLowerCase();
    if (/(?:\bv|version\s*|ver\.?\s*)$/.test(before)) return; // "v1.2.3.4", "version 10.0.19045.1"
    if (ipv4Valid(m[0])) out.push({ type: "IP_ADDRESS", start: m.index, end: m.index + m[0].length, rule: "ipv4" });
  });
  const colon = text.indexOf(":");
  if (colon < 0 || text.indexOf(":", colon + 1) < 0) return out; // an IPv6 address has two colons or more
  eachMatch(IPV6, text, (m) => {
    const s = m[0];
    const groups = s.split(":").filter((g) => g !== "").length;
    if (groups >= 2 && ipv6Valid(s)) out.push({ type: "IP_ADDRESS", start: m.index, end: m.index + s.length, rule: "ipv6" });
  });
  return out;
};

export interface CustomClass {
  name: string;
  terms?: string[];
  patterns?: string[];
}

/** Custom classes from config: term lists (whole words, case-insensitive) and regexes. */
export function customDetector(c: CustomClass): Detector {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const res: RegExp[] = [];
  if (c.terms?.length) res.push(new RegExp(`(?<![\\p{L}\\p{N}_])(?:${c.terms.map(esc).join("|")})(?![\\p{L}\\p{N}_])`, "giu"));
  for (const p of c.patterns ?? []) res.push(new RegExp(p, "g"));
  return (text) => {
    const out: Entity[] = [];
    for (const re of res)
      eachMatch(re, text, (m) => {
        if (m[0].length > 0) out.push({ type: c.name, start: m.index, end: m.index + m[0].length, rule: "custom" });
      });
    return out;
  };
}
