/**
 * A cheap test that a text cannot hold anything the built-in detectors find, so that detection skips
 * it. Why: most strings of a request and of an answer are keys, roles, ids and finish reasons
 * ("content", "assistant", "chat.completion", "stop"), and each full detection pass over one costs
 * a few microseconds of fixed work (normalisation check, every detector, the decoder) that a
 * one-pass count of a few character classes avoids. Pure.
 *
 * Why it never skips a value, detector by detector. Text that holds a non-ASCII character or a
 * backslash is always scanned (normalisation can turn it into digits, "@", ":" or anchors); other
 * text is what every detector sees unchanged (normalise.ts returns ASCII text without a JSON escape
 * as it is), and then:
 * - SECRET: every rule runs only when one of its literal anchors is in the text (secrets.ts:
 *   SECRET_ANCHORS, JWTs "eyJ", private keys "-----BEGIN ");
 * - EMAIL: the scan starts from an "@";
 * - CREDIT_CARD needs 12 digits, US_SSN 9, PHONE 7 (11 for bare CN mobiles), IPv4 4, IBAN 2 (its
 *   check digits: "[A-Z]{2}\d{2}"); so fewer than 2 digits is none of them;
 * - IPv6: the detector needs two colons;
 * - values inside base64/hex runs: only runs that findEncodedRuns returns are decoded and scanned.
 * A detector this file does not vouch for (a custom class from config: terms and patterns of any
 * shape) makes every text pass. test/detect/prefilter.test.ts checks each family, obfuscated forms
 * included, and a seeded fuzz of texts dense in digits, separators, "@" and ":".
 */
import { findEncodedRuns, MIN_RUN } from "./decode.js";
import { detectCreditCard, detectEmail, detectIban, detectIp, detectSsn } from "./detectors.js";
import { detectSecret, SECRET_ANCHORS } from "./secrets.js";
import type { Detector } from "./types.js";

/** Detectors whose every finding needs one of the conditions above (phone detectors: buildDetectors vouches for them). */
const vouched = new WeakSet<Detector>([detectSecret, detectCreditCard, detectIban, detectSsn, detectEmail, detectIp]);
/** Per detector set: whether every detector in it is vouched for. */
const setVouched = new WeakMap<readonly Detector[], boolean>();

/** Mark a built-in detector as covered by mayHoldValue (the phone detector of a country, built by buildDetectors). */
export function vouchFor<D extends Detector>(d: D): D {
  vouched.add(d);
  return d;
}

function allVouched(detectors: readonly Detector[]): boolean {
  let v = setVouched.get(detectors);
  if (v === undefined) {
    v = detectors.every((d) => vouched.has(d));
    setVouched.set(detectors, v);
  }
  return v;
}

/** Every secret anchor in one expression (V8 scans a literal alternation in one pass). */
const ANCHORS = new RegExp(SECRET_ANCHORS.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));
/** Per character code below 128: 1 in the base64/hex alphabet of decode.ts (letters, digits, "+/-_"), 2 also a mark (below). */
const RUN_CHAR = new Uint8Array(128);
for (const c of "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/-_") RUN_CHAR[c.charCodeAt(0)] = 1;
/**
 * Every anchor holds one of these characters ("sk-", "ghp_", "AKIA", "eyJ", "xox"…), so a text with
 * none of them holds no anchor and the expression is not run (it costs ~10× the counting loop).
 */
const MARKS = "-_AJx";
for (const c of MARKS) RUN_CHAR[c.charCodeAt(0)] = 2;
for (const a of SECRET_ANCHORS) if (![...MARKS].some((c) => a.includes(c))) throw new Error(`prefilter: anchor "${a}" holds none of "${MARKS}"`);

/** False only when none of `detectors` can find anything in `text` (see the header for why). */
export function mayHoldValue(text: string, detectors: readonly Detector[]): boolean {
  if (!allVouched(detectors)) return true;
  let digits = 0;
  let colons = 0;
  let run = 0;
  let longest = 0;
  let marked = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || c === 64 || c === 92) return true; // non-ASCII, "@", a backslash
    if (c >= 48 && c <= 57) {
      if (++digits >= 2) return true;
    } else if (c === 58 && ++colons >= 2) return true;
    const k = RUN_CHAR[c] as number;
    if (k > 0) {
      if (++run > longest) longest = run;
      if (k === 2) marked = true;
    } else run = 0;
  }
  if (marked && ANCHORS.test(text)) return true;
  // A run findEncodedRuns could decode is MIN_RUN long with its "=" padding (up to two).
  return longest >= MIN_RUN - 2 && findEncodedRuns(text).length > 0;
}
