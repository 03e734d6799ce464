/** The built-in detectors. Each is linear in the text: bounded quantifiers, no nested ambiguity. Pure. */

import type { CountryCode } from "libphonenumber-js";
import { Metadata, parsePhoneNumberFromString } from "libphonenumber-js";
import type { Detector, Entity } from "./types.js";
import { cardNetwork, IBAN_LENGTHS, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from "./validators.js";

const LOCAL = /[A-Za-z0-9._%+\-']/;
const DOMAIN = /[A-Za-z0-9.-]/;

/**
 * Every match of a global (or sticky) expression, in order: exec() on the shared expression from
 * the start, so no clone per call as matchAll makes. The callback must not run `re` itself.
 */
function eachMatch(re: RegExp, text: string, f: (m: RegExpExecArray) => void): void {
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

/** Emails by scanning out from each "@" (no regex backtracking), then validating the domain. */
export const detectEmail: Detector = (text) => {
  const out: Entity[] = [];
  let from = 0;
  for (let at = text.indexOf("@", from); at >= 0; at = text.indexOf("@", from)) {
    from = at + 1;
    let s = at;
    while (s > 0 && at - s < 64 && LOCAL.test(text[s - 1] as string)) s--;
    while (s < at && (text[s] === "." || text[s] === "'")) s++;
    let e = at + 1;
    while (e < text.length && e - at <= 253 && DOMAIN.test(text[e] as string)) e++;
    while (e > at + 1 && (text[e - 1] === "." || text[e - 1] === "-")) e--;
    if (s === at || e === at + 1) continue;
    const labels = text.slice(at + 1, e).split(".");
    const tld = labels[labels.length - 1] ?? "";
    if (labels.length < 2 || !/^[A-Za-z]{2,24}$/.test(tld) || labels.some((l) => l === "" || l.length > 63 || l.startsWith("-") || l.endsWith("-"))) continue;
    out.push({ type: "EMAIL", start: s, end: e, rule: "email" });
    from = e;
  }
  return out;
};

/** A maximal run of digit groups joined by single spaces or hyphens (cards are found inside it). */
const CARD = /(?<![\w-])\d+(?:[ -]\d+)*(?![\w])/g;
export const detectCreditCard: Detector = (text) => {
  const out: Entity[] = [];
  eachMatch(CARD, text, (m) => {
    // A run of digit groups may hold a card next to other numbers ("order 12 4111 1111 1111 1111"):
    // try spans of whole groups (at most 19 digits, so the work per group is bounded and the
    // detector stays linear), longest first; separators within a card are all the same, and its
    // groups have 3 or more digits.
    const raw = m[0];
    const groups = [...raw.matchAll(/\d+/g)].map((g) => ({ start: g.index, end: g.index + g[0].length, digits: g[0] }));
    let from = 0;
    while (from < groups.length) {
      const first = groups[from] as (typeof groups)[number];
      let found = -1;
      if (first.digits[0] !== undefined && first.digits[0] >= "2" && first.digits[0] <= "6") {
        let digits = "";
        let sep: string | undefined;
        const candidates: { j: number; digits: string }[] = [];
        for (let j = from; j < groups.length; j++) {
          const g = groups[j] as (typeof groups)[number];
          if (j > from) {
            const s = raw[g.start - 1] as string;
            if (sep !== undefined && s !== sep) break; // mixed separators: not a printed card number
            sep = s;
          }
          if (g.digits.length < 3 && groups.length > 1) break; // printed cards group 3+ digits (4-4-4-4, 4-6-5)
          digits += g.digits;
          if (digits.length > 19) break;
          if (digits.length >= 12) candidates.push({ j, digits });
        }
        for (let k = candidates.length - 1; k >= 0 && found < 0; k--) {
          const c = candidates[k] as { j: number; digits: string };
          if (!cardNetwork(c.digits) || !luhnValid(c.digits)) continue;
          // Part of a longer run of like groups ("Order 4755 6879 3747 3985"): the run is the
          // number, and it is not a card. A neighbour that is short or joined by another
          // separator ("order 12 4111 …", "+44 20 … 4111-1111-…") does not count.
          const like = (n: (typeof groups)[number] | undefined, sepAt: number) =>
            n !== undefined && n.digits.length >= 3 && (sep === undefined || raw[sepAt] === sep);
          const before = groups[from - 1];
          const after = groups[c.j + 1];
          if (like(before, first.start - 1) || like(after, (after?.start ?? 0) - 1)) continue;
          found = c.j;
        }
      }
      if (found >= 0) {
        out.push({ type: "CREDIT_CARD", start: m.index + first.start, end: m.index + (groups[found] as (typeof groups)[number]).end, rule: "luhn" });
        from = found + 1;
      } else from++;
    }
  });
  return out;
};

const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/gi;
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
      if (m[0][end] !== " ") n++;
      end++;
    }
    if (n !== len || /[A-Za-z0-9]/.test(m[0][end] ?? "")) return;
    const candidate = m[0].slice(0, end);
    if (ibanValid(candidate.replace(/ /g, ""))) out.push({ type: "IBAN", start: m.index, end: m.index + end, rule: "mod97" });
  });
  return out;
};

const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g;
export const detectSsn: Detector = (text) => {
  const out: Entity[] = [];
  eachMatch(SSN, text, (m) => {
    if (ssnValid(m[1] as string, m[3] as string, m[4] as string)) out.push({ type: "US_SSN", start: m.index, end: m.index + m[0].length, rule: "ssa" });
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

/** Each rule runs only if its text holds one of its literal anchors (most texts hold none). */
const SECRET_RULES: { rule: string; anchors: string[]; re: RegExp; check?: (s: string) => boolean }[] = [
  { rule: "anthropic-key", anchors: ["sk-ant-"], re: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,200}/g },
  {
    rule: "openai-key",
    anchors: ["sk-"],
    re: /\bsk-(?:proj-|svcacct-|admin-)?(?!ant-)[A-Za-z0-9_-]{20,200}/g,
    check: (s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s),
  },
  { rule: "aws-access-key", anchors: ["AKIA", "ASIA"], re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    rule: "github-token",
    anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
  },
  { rule: "slack-token", anchors: ["xox"], re: /\bxox[baprs]-[A-Za-z0-9-]{10,250}/g },
  { rule: "google-api-key", anchors: ["AIza"], re: /\bAIza[0-9A-Za-z_-]{35}/g },
  { rule: "stripe-key", anchors: ["_live_", "_test_"], re: /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}/g },
  { rule: "huggingface-token", anchors: ["hf_"], re: /\bhf_[A-Za-z0-9]{30,40}\b/g },
  {
    rule: "private-key",
    anchors: ["-----BEGIN "],
    re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[\s\S]{1,20000}?-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g,
  },
  { rule: "jwt", anchors: ["eyJ"], re: /\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096}/g, check: jwtHeaderValid },
];

function jwtHeaderValid(token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8")) as { alg?: unknown };
    return typeof header.alg === "string";
  } catch {
    return false;
  }
}

export const detectSecret: Detector = (text) => {
  const out: Entity[] = [];
  for (const r of SECRET_RULES)
    if (r.anchors.some((a) => text.includes(a)))
      eachMatch(r.re, text, (m) => {
        if (!r.check || r.check(m[0])) out.push({ type: "SECRET", start: m.index, end: m.index + m[0].length, rule: r.rule });
      });
  return out;
};

/**
 * Phone-number candidates by a linear pattern of the written forms (+CC, (area), groups separated by
 * space, dot or dash, or +digits), 7–15 digits as E.164 allows; libphonenumber-js then parses each
 * candidate against real numbering plans. (Its findNumbers over a whole text was super-linear on
 * long runs of digit groups: 4 s on 200k characters.)
 */
const PHONE_CANDIDATE = /(?<![\w+])(?:\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,8}(?:[ .-]\d{1,8}){1,5})(?![\w])/g;

const NUMBER_TYPES = ["FIXED_LINE", "MOBILE", "TOLL_FREE", "PREMIUM_RATE", "PERSONAL_NUMBER", "VOICEMAIL", "UAN", "PAGER", "VOIP", "SHARED_COST"];

export interface NationalShape {
  /** Digit counts a national number can have, with or without the national prefix. */
  lengths: Set<number>;
  idd: string;
  /** Every number-type pattern of the country in one expression (undefined: prefix rules too involved to pre-check). */
  valid: RegExp | undefined;
  prefix: string;
  callingCode: string;
}

/**
 * What a number written without "+" must look like to be valid in the default country: its national
 * lengths, and its number-type patterns. Others cannot be valid there, so libphonenumber (~60 µs a
 * candidate here, the detector's largest cost) is not asked; numbers written with "+" or an IDD
 * prefix always are.
 */
export function nationalShape(country: CountryCode): NationalShape {
  const m = new Metadata();
  m.selectNumberingPlan(country);
  const plan = m.numberingPlan as unknown as {
    possibleLengths(): number[];
    IDDPrefix(): string;
    nationalPrefix?(): string | undefined;
    nationalPrefixForParsing?(): string | undefined;
    nationalPrefixTransformRule?(): string | undefined;
    callingCode(): string;
    type(t: string): { pattern(): string } | undefined;
  };
  const prefix = plan.nationalPrefix?.() ?? "";
  const lengths = new Set<number>();
  for (const l of plan.possibleLengths()) {
    lengths.add(l);
    if (prefix) lengths.add(l + prefix.length);
  }
  const forParsing = plan.nationalPrefixForParsing?.() ?? prefix;
  const simplePrefix = !plan.nationalPrefixTransformRule?.() && /^\d*$/.test(forParsing) && (!prefix || forParsing === prefix);
  // A national number may belong to any country sharing the calling code (NANP: US, CA and the
  // Caribbean), so every one of them contributes its patterns.
  const sharing = (m as unknown as { countryCallingCodes(): Record<string, string[]> }).countryCallingCodes()[plan.callingCode()] ?? [country];
  const patterns: string[] = [];
  for (const c of sharing) {
    const cm = new Metadata();
    cm.selectNumberingPlan(c as CountryCode);
    const cp = cm.numberingPlan as unknown as typeof plan & { nationalNumberPattern(): string; leadingDigits(): string | undefined };
    // Without number types in the metadata, libphonenumber checks the general pattern only; a
    // country with leading digits (PR: 787|939) only gets numbers that start with them.
    const typed = NUMBER_TYPES.map((t) => cp.type(t)?.pattern()).filter((p): p is string => Boolean(p));
    const own = (cm as unknown as { hasTypes(): boolean }).hasTypes() && typed.length ? typed.join("|") : cp.nationalNumberPattern();
    const lead = cp.leadingDigits();
    patterns.push(lead ? `(?=${lead})(?:${own})` : own);
  }
  return {
    lengths,
    idd: /^\d+$/.test(plan.IDDPrefix()) ? plan.IDDPrefix() : "00",
    valid: simplePrefix && patterns.length > 0 ? new RegExp(`^(?:${patterns.join("|")})$`) : undefined,
    prefix: forParsing,
    callingCode: plan.callingCode(),
  };
}

/**
 * False only when no reading of the digits (as written, without the national prefix, without the
 * country calling code) matches a number type of the default country, so libphonenumber would find
 * no valid number either.
 */
export function mayBeNationalNumber(shape: NationalShape, digits: string): boolean {
  const v = shape.valid;
  if (!v) return true;
  if (v.test(digits)) return true;
  if (shape.prefix && digits.startsWith(shape.prefix) && v.test(digits.slice(shape.prefix.length))) return true;
  const rest = digits.startsWith(shape.callingCode) ? digits.slice(shape.callingCode.length) : undefined;
  return rest !== undefined && (v.test(rest) || (shape.prefix !== "" && rest.startsWith(shape.prefix) && v.test(rest.slice(shape.prefix.length))));
}

/** Phone numbers with libphonenumber-js (real numbering plans): valid numbers only. */
export function phoneDetector(defaultCountry: CountryCode = "US"): Detector {
  const shape = nationalShape(defaultCountry);
  return (text) => {
    const out: Entity[] = [];
    eachMatch(PHONE_CANDIDATE, text, (m) => {
      const raw = m[0];
      const allDigits = raw.replace(/\D/g, "");
      const digits = allDigits.length;
      if (digits < 7 || digits > 15) return;
      const international = raw.startsWith("+") || allDigits.startsWith(shape.idd);
      if (!international && (!shape.lengths.has(digits) || !mayBeNationalNumber(shape, allDigits))) return;
      // The tail of an IBAN-shaped token ("NL39 RFGK 8438 9404 54") is not a phone number.
      if (/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4})+ ?$/.test(text.slice(Math.max(0, m.index - 40), m.index))) return;
      const n = parsePhoneNumberFromString(raw, defaultCountry);
      if (n?.isValid()) out.push({ type: "PHONE", start: m.index, end: m.index + raw.length, rule: `phone-${n.country ?? "intl"}` });
    });
    return out;
  };
}

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
