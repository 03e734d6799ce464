/**
 * One test per obfuscation family, for every built-in class: the value is found in its obfuscated
 * form, and redaction replaces exactly the characters that were sent (the zero-width spaces, the
 * fullwidth digits, the whole encoded run), leaving the text around it as it was.
 */
import { describe, expect, it } from "vitest";
import { buildDetectors, detect, detectAcross, normalise, redact } from "../../src/detect/index.js";

const VALUES: Record<string, string> = {
  EMAIL: "jane.doe@example.com",
  PHONE: "+1 415 555 2671",
  CREDIT_CARD: "4111 1111 1111 1111",
  IBAN: "DE89 3704 0044 0532 0130 00",
  US_SSN: "123-45-6789",
  IP_ADDRESS: "192.168.10.20",
  SECRET: "AKIAIOSFODNN7EXAMPLE",
};

const every = (v: string, ch: string) => [...v].join(ch);
const fullwidth = (v: string) => v.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const FAMILIES: Record<string, (v: string) => string> = {
  "zero-width space between every character": (v) => every(v, "\u200b"),
  "mixed format characters (U+200C, U+2060, U+FEFF, U+180E)": (v) =>
    [...v].map((c, i) => (i === 0 ? c : ["\u200c", "\u2060", "\ufeff", "\u180e", ""][i % 5] + c)).join(""),
  "soft hyphens": (v) => every(v, "\u00ad"),
  "fullwidth digits": (v) => v.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
  "Arabic-Indic digits": (v) => v.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d))),
  "NFKC compatibility forms (all fullwidth, incl. ＠ and ．)": fullwidth,
  base64: (v) => Buffer.from(v).toString("base64"),
  base64url: (v) => Buffer.from(`value: ${v}`).toString("base64url"),
  hex: (v) => Buffer.from(v).toString("hex"),
};

describe("obfuscation families, every class", () => {
  for (const [family, obfuscate] of Object.entries(FAMILIES))
    for (const [type, value] of Object.entries(VALUES))
      it(`${family}: ${type}`, () => {
        const sent = obfuscate(value);
        const text = `note: ${sent} end`;
        const found = detect(text, buildDetectors({ classes: [type] }));
        expect(found.map((e) => [e.type, text.slice(e.start, e.end)])).toEqual([[type, sent]]);
        expect(redact(text, found).redacted).toBe(`note: [${type}_1] end`);
        if (family.startsWith("base64") || family === "hex") expect(found[0]?.rule).toMatch(/^(base64|hex):/);
      });

  it("fullwidth ＠ alone, and the small commercial at", () => {
    for (const at of ["＠", "﹫"]) {
      const text = `mail jane${at}example.com now`;
      expect(redact(text, detect(text)).redacted).toBe("mail [EMAIL_1] now");
    }
  });

  it("normalisation maps offsets back through removed and expanded characters", () => {
    const text = "a\u200bb ㎏ ①\ud83d\ude00x";
    const n = normalise(text);
    expect(n.text).toBe("ab kg 1\ud83d\ude00x");
    const k = n.text.indexOf("kg");
    expect([n.from?.[k], n.to?.[k + 1]]).toEqual([text.indexOf("㎏"), text.indexOf("㎏") + 1]);
    expect(n.from?.[n.text.length - 1]).toBe(text.length - 1);
    expect(normalise("plain ascii").from).toBeUndefined();
    // Long compatibility forms stay as they are: a hostile body cannot grow 18× in the scanner.
    expect(normalise("\ufdfa".repeat(1000)).text.length).toBe(1000);
  });

  it("decoding is bounded and skips what is not text", () => {
    const random = Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 97 + 13) % 256)).toString("base64");
    expect(detect(`blob ${random} end`)).toEqual([]);
    // Over 64 KiB decoded: not decoded (an image in a data URL, say), even if it holds a card.
    const big = Buffer.from(`4111 1111 1111 1111 ${"x".repeat(70_000)}`).toString("base64");
    expect(detect(big, buildDetectors({ classes: ["CREDIT_CARD"] }))).toEqual([]);
    // One level deep: a value encoded twice is not found (docs/gateway.md says so).
    const twice = Buffer.from(Buffer.from(VALUES.CREDIT_CARD as string).toString("base64")).toString("base64");
    expect(detect(twice, buildDetectors({ classes: ["CREDIT_CARD"] }))).toEqual([]);
    // Words, hashes and ids of the alphabet are not mistaken for encoded text.
    expect(detect("internationalization_configuration deadbeefcafebabe0123456789abcdef 550e8400-e29b-41d4-a716-446655440000")).toEqual([]);
  });
});

describe("values split across texts", () => {
  it("a card split across two messages is found, a piece in each", () => {
    const texts = ["My card is 4111 1111", "1111 1111, thanks"];
    const found = detectAcross(texts);
    expect(found.map((f) => f.map((e) => [e.type, e.rule]))).toEqual([[["CREDIT_CARD", "split:luhn"]], [["CREDIT_CARD", "split:luhn"]]]);
    expect(texts.map((t, i) => redact(t, found[i] ?? []).redacted)).toEqual(["My card is [CREDIT_CARD_1]", "[CREDIT_CARD_1], thanks"]);
  });

  it("every class split mid-value, also over three texts and with a zero-width space at the cut", () => {
    for (const [type, value] of Object.entries(VALUES)) {
      const a = Math.floor(value.length / 3);
      const b = Math.floor((2 * value.length) / 3);
      for (const texts of [
        [`x ${value.slice(0, b)}`, `${value.slice(b)} y`],
        [`x ${value.slice(0, a)}`, value.slice(a, b), `${value.slice(b)} y`],
        [`x ${value.slice(0, b)}\u200b`, `${value.slice(b)} y`],
      ]) {
        const found = detectAcross(texts, buildDetectors({ classes: [type] }));
        const redacted = texts.map((t, i) => redact(t, found[i] ?? []).redacted).join("|");
        expect(redacted.replace(/\[[A-Z_]+_\d+\]/g, "#"), `${type} in ${JSON.stringify(texts)}`).toMatch(/^x #(\|#)*\|?# y$|^x #\|# y$/);
      }
    }
  });

  it("two unrelated numbers in adjacent messages are not merged into a false card (Luhn decides)", () => {
    expect(detectAcross(["order 4111 1111", "1111 1112 shipped"])).toEqual([[], []]);
    expect(detectAcross(["ticket 4111 1111 1111", "page 2"])).toEqual([[], []]);
  });

  it("a value complete in one text is not extended into the next", () => {
    const found = detectAcross(["write to jane@example.com", "today"]);
    expect(found[0]?.map((e) => e.rule)).toEqual(["email"]);
    expect(found[1]).toEqual([]);
  });

  it("values inside one text are that text's own findings; one text alone is detect()", () => {
    const texts = ["card 4111 1111 1111 1111", "mail jane@example.com"];
    expect(detectAcross(texts)).toEqual(texts.map((t) => detect(t)));
    expect(detectAcross([texts[0] as string])).toEqual([detect(texts[0] as string)]);
  });
});
