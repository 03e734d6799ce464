/**
 * Phone numbers: linear candidates of the written forms, checked against real numbering plans
 * (libphonenumber-js metadata). Pure.
 */
import type { CountryCode } from "libphonenumber-js";
import { Metadata, parsePhoneNumberFromString } from "libphonenumber-js";
import { eachMatch } from "./detectors.js";
import type { Detector, Entity } from "./types.js";

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

/**
 * Regions where mobile numbers are commonly written as one unbroken run of digits ("13812345678"):
 * there such a run is a candidate too. Elsewhere a bare run is more often an order or invoice number.
 */
const BARE_MOBILE: Partial<Record<CountryCode, RegExp>> = { CN: /(?<![\w+.-])1[3-9]\d{9}(?![\w])/g };

const PARSE_BUDGET = 2000;
const byCallingCode = new Map<string, NationalShape | null>();

/**
 * False only when the digits after "+" (or the IDD prefix) cannot be a valid number: no country
 * has that calling code, or the rest matches none of its countries' number types. Calling codes
 * are prefix-free, so the first one found is the one.
 */
function mayBeInternationalNumber(digits: string): boolean {
  for (let l = 1; l <= 3 && l < digits.length; l++) {
    const cc = digits.slice(0, l);
    if (!byCallingCode.has(cc)) {
      const countries = (new Metadata() as unknown as { countryCallingCodes(): Record<string, string[]> }).countryCallingCodes()[cc];
      byCallingCode.set(cc, countries?.[0] && countries[0] !== "001" ? nationalShape(countries[0] as CountryCode) : null);
    }
    const shape = byCallingCode.get(cc);
    if (shape) return mayBeNationalNumber(shape, digits.slice(l));
  }
  return false;
}

/** Phone numbers with libphonenumber-js (real numbering plans): valid numbers only. */
export function phoneDetector(defaultCountry: CountryCode = "US"): Detector {
  const shape = nationalShape(defaultCountry);
  const bare = BARE_MOBILE[defaultCountry];
  return (text) => {
    const out: Entity[] = [];
    if (bare)
      eachMatch(bare, text, (m) => {
        if (parsePhoneNumberFromString(m[0], defaultCountry)?.isValid())
          out.push({ type: "PHONE", start: m.index, end: m.index + m[0].length, rule: `phone-${defaultCountry}` });
      });
    // libphonenumber costs ~10–50 µs a number: past a budget per text (a flood of valid-looking
    // numbers), candidates are judged by the numbering plan's patterns alone (rule "phone-shape").
    let budget = PARSE_BUDGET + (text.length >> 9);
    eachMatch(PHONE_CANDIDATE, text, (m) => {
      const raw = m[0];
      const allDigits = raw.replace(/\D/g, "");
      const digits = allDigits.length;
      if (digits < 7 || digits > 15) return;
      const intl = raw.startsWith("+") ? allDigits : allDigits.startsWith(shape.idd) ? allDigits.slice(shape.idd.length) : undefined;
      if (intl === undefined && (!shape.lengths.has(digits) || !mayBeNationalNumber(shape, allDigits))) return;
      if (intl !== undefined && !mayBeInternationalNumber(intl)) return;
      // The tail of an IBAN-shaped token ("NL39 RFGK 8438 9404 54") is not a phone number.
      if (/\b[A-Z]{2}\d{2}(?:[ -]{0,2}[A-Z0-9]{4})+[ -]{0,2}$/.test(text.slice(Math.max(0, m.index - 48), m.index))) return;
      if (budget-- <= 0) {
        out.push({ type: "PHONE", start: m.index, end: m.index + raw.length, rule: "phone-shape" });
        return;
      }
      const n = parsePhoneNumberFromString(raw, defaultCountry);
      if (n?.isValid()) out.push({ type: "PHONE", start: m.index, end: m.index + raw.length, rule: `phone-${n.country ?? "intl"}` });
    });
    return out;
  };
}
