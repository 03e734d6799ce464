/**
 * The detection pre-filter (src/detect/prefilter.ts) skips texts that cannot hold a value. These
 * tests hold it to "never skips what a detector finds": per detector family (plain, typed and
 * obfuscated forms, the least-digit values each family allows), over the labelled corpus, and over
 * a seeded fuzz of texts dense in what the detectors look for; every time through scanAll (the
 * unfiltered scan), so that a filter which drops a finding fails here.
 */
import { describe, expect, it } from "vitest";
import { buildDetectors, customDetector, type Detector, detect, phoneDetector } from "../../src/detect/index.js";
import { scanAll } from "../../src/detect/pipeline.js";
import { mayHoldValue } from "../../src/detect/prefilter.js";
import { ibanValid } from "../../src/detect/validators.js";
import { seededRng } from "../../src/stats/rng.js";
import { generateCorpus } from "../support/pii-corpus.js";

const ALL = buildDetectors();
const CN = buildDetectors({ defaultCountry: "CN" });

/** An IBAN of `country` whose BBAN is the given letters, with check digits computed by mod-97 (ISO 13616). */
function ibanOf(country: string, bban: string): string {
  const num = (s: string) => [...s].map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55))).join("");
  const rem = [...num(`${bban}${country}00`)].reduce((r, d) => (r * 10 + Number(d)) % 97, 0);
  return `${country}${String(98 - rem).padStart(2, "0")}${bban}`;
}

const fullwidth = (v: string) => v.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const zeroWidth = (v: string) => [...v].join("\u200b");
const jsonEscaped = (v: string) => v.replace(/\d/g, (d) => `\\u003${d}`);
const base64 = (v: string) => Buffer.from(v).toString("base64");
const hex = (v: string) => Buffer.from(v).toString("hex");

const FAMILIES: Record<string, string[]> = {
  EMAIL: ["jane.doe@example.com", '"john doe"@example.com', "用户@例子.中国", "a@b.co"],
  PHONE: ["+1 415 555 2671", "(415) 555-2671", "+14155552671", "415.555.2671"],
  CREDIT_CARD: ["4111 1111 1111 1111", "4111.1111.1111.1111", "4111/1111/1111/1111", "4111-1111\n1111 1111", "378282246310005"],
  IBAN: ["DE89 3704 0044 0532 0130 00", "GB82-WEST-1234-5698-7654-32", "NL91ABNA0417164300"],
  US_SSN: ["123-45-6789", "SSN 123456789", "social security 123 45 6789"],
  IP_ADDRESS: ["192.168.10.20", "2001:db8::1", "fe80::abcd:ef01"],
  SECRET: [
    "AKIAIOSFODNN7EXAMPLE",
    "sk-proj-Abcdefghij1234567890KLMNOP",
    "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "xoxb-abcdefghij",
    "hf_abcdefghijklmnopqrstuvwxyzABCD",
    `eyJ${Buffer.from('{"alg":"HS256"}').toString("base64url").slice(3)}.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk`,
    "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
    `-----BEGIN RSA PRIVATE KEY-----\n${"MIIEowIBAAKCAQEA".repeat(5)}`,
  ],
};
const FORMS: Record<string, (v: string) => string> = {
  plain: (v) => v,
  "fullwidth forms": fullwidth,
  "zero-width spaces": zeroWidth,
  "JSON escapes of the digits": jsonEscaped,
  base64,
  hex,
};

describe("the pre-filter never skips a value", () => {
  for (const [type, values] of Object.entries(FAMILIES))
    for (const [form, f] of Object.entries(FORMS))
      it(`${type}, ${form}`, () => {
        let checked = 0;
        for (const v of values) {
          const text = `note: ${f(v)} end`;
          const found = scanAll(text, ALL);
          if (form === "plain")
            expect(
              found.map((e) => e.type),
              text,
            ).toContain(type);
          if (found.length === 0) continue;
          checked++;
          expect(mayHoldValue(text, ALL), text).toBe(true);
          expect(detect(text, ALL)).toEqual(found);
        }
        // Every plain value is found; of the other forms, at least one per family is (the detector's own tests say which).
        expect(checked).toBeGreaterThan(0);
      });

  it("an IBAN with only its two check digits (a BBAN of letters) and an IPv6 address of letters", () => {
    const iban = ibanOf("GB", "WESTABCDEFGHIJKLMN");
    expect(ibanValid(iban)).toBe(true);
    const digits = iban.replace(/\D/g, "").length;
    for (const text of [`pay ${iban} now`, "host fe::ab ok"]) {
      expect(scanAll(text, ALL).length, text).toBeGreaterThan(0);
      expect(mayHoldValue(text, ALL), text).toBe(true);
    }
    expect(digits).toBeLessThanOrEqual(2);
  });

  it("the shortest encoded run the decoder takes: 14 base64 characters and their padding", () => {
    const run = Buffer.from("aa@ax.info").toString("base64"); // one digit, no anchor: only the run rule lets it through
    expect(run).toMatch(/^[A-Za-z0-9]{14}==$/);
    const text = `see ${run} here`;
    expect(scanAll(text, ALL).map((e) => e.rule)).toEqual(["base64:email"]);
    expect(mayHoldValue(text, ALL)).toBe(true);
  });

  it("a bare Chinese mobile number for --region CN", () => {
    const text = "call 13812345678";
    expect(scanAll(text, CN).map((e) => e.type)).toEqual(["PHONE"]);
    expect(mayHoldValue(text, CN)).toBe(true);
  });

  it("the labelled corpus: every text with a finding passes", () => {
    let found = 0;
    for (const { text } of generateCorpus(7, 60, 300)) {
      if (scanAll(text, ALL).length === 0) continue;
      found++;
      expect(mayHoldValue(text, ALL), text).toBe(true);
    }
    expect(found).toBeGreaterThan(300);
  });

  it("a seeded fuzz of texts dense in digits, separators, @ and colons", () => {
    const r = seededRng(14);
    const pieces = ["0", "1", "4", "9", " ", "-", ".", "/", ":", "@", "a", "Z", "x", "GB", "eyJ", "sk-", "AKIA", "ex.com", "\n", "::", "SSN "];
    let withFinding = 0;
    let skipped = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = "";
      const len = 1 + Math.floor(r() * 40);
      for (let i = 0; i < len; i++) text += pieces[Math.floor(r() * pieces.length)];
      const found = scanAll(text, ALL).length > 0;
      const may = mayHoldValue(text, ALL);
      if (found) {
        withFinding++;
        expect(may, JSON.stringify(text)).toBe(true);
      }
      if (!may) skipped++;
    }
    // Not vacuous: the fuzz finds values, and the filter does skip texts.
    expect(withFinding).toBeGreaterThan(200);
    expect(skipped).toBeGreaterThan(200);
  });
});

describe("what the pre-filter skips", () => {
  it("keys, roles and ids that cannot hold a value", () => {
    for (const s of ["content", "assistant", "chat.completion", "finish_reason", "stop", "b", "", "completion_tokens", "Hello, how are you?"])
      expect(mayHoldValue(s, ALL), s).toBe(false);
  });

  it("passes everything when a detector it does not vouch for is in the set (custom classes, a phone detector built elsewhere)", () => {
    const custom = buildDetectors({ custom: [{ name: "PROJECT", terms: ["bluebird"] }] });
    expect(mayHoldValue("bluebird", custom)).toBe(true);
    expect(detect("codename bluebird", custom).map((e) => e.type)).toEqual(["PROJECT"]);
    const own: Detector[] = [customDetector({ name: "X", patterns: ["stop"] }), phoneDetector("US")];
    expect(mayHoldValue("stop", own)).toBe(true);
  });
});
