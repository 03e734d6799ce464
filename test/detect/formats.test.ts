/**
 * The formats real people type, per class: each positive is found as exactly the characters typed
 * (redaction replaces them), and the near-misses beside them are not.
 */
import { describe, expect, it } from "vitest";
import { buildDetectors, type DetectOptions, detect, redact } from "../../src/detect/index.js";

function spans(text: string, o: DetectOptions) {
  return detect(text, buildDetectors(o)).map((e) => [e.type, text.slice(e.start, e.end)]);
}

function expectFound(type: string, values: string[], o: DetectOptions = { classes: [type] }) {
  for (const v of values) {
    const text = `before ${v} after`;
    expect(spans(text, o), v).toEqual([[type, v]]);
    expect(redact(text, detect(text, buildDetectors(o))).redacted).toBe(`before [${type}_1] after`);
  }
}

function expectNone(type: string, texts: string[], o: DetectOptions = { classes: [type] }) {
  for (const t of texts) expect(spans(t, o), t).toEqual([]);
}

describe("formats people type", () => {
  it("CREDIT_CARD: dots, slashes, mixed separators, double spaces, line breaks", () => {
    expectFound("CREDIT_CARD", [
      "4111.1111.1111.1111",
      "4111/1111/1111/1111",
      "4111-1111 1111.1111",
      "4111  1111  1111  1111",
      "4111 1111\n1111 1111",
      "4111 1111 \r\n 1111 1111",
      "4111 - 1111 - 1111 - 1111",
      "3782 822463 10005",
      "5555.5555.5555.4444",
    ]);
  });
  it("CREDIT_CARD near-misses: dates, versions, IPs, failing Luhn, longer numbers", () => {
    expectNone("CREDIT_CARD", [
      "due 2024/01/15 and 15.01.2024, 01/15/2024",
      "build 10.0.19045.1 and 6.1.7601.24545",
      "hosts 255.255.255.255 and 223.255.254.1",
      "Order 4111.1111.1111.1112 shipped",
      "Order 4111/1111/1111/1112 shipped",
      "reference 4111 1111 1111 1111 0001 2345",
      "lines\n4111\n1111\n1111\n1111\n2222\n",
      "v1.4111.1111.1111.1111",
    ]);
  });
  it("IBAN: dashes and double spaces", () => {
    expectFound("IBAN", ["DE89-3704-0044-0532-0130-00", "DE89  3704  0044  0532  0130  00", "GB82 WEST 1234 5698 7654 32", "gb82-west-1234-5698-7654-32"]);
    expectNone("IBAN", ["DE89-3704-0044-0532-0130-01", "DE89  3704  0044  0532  0130  0"]);
  });
  it("US_SSN: nine digits together only next to a context word", () => {
    for (const ctx of [
      "SSN: ",
      "social security number ",
      "Soc. Sec. #",
      "soc sec ",
      "Sozialversicherungsnummer ",
      "numéro de sécurité sociale ",
      "社会安全号码",
    ]) {
      const text = `${ctx}123456789 on file`;
      expect(spans(text, { classes: ["US_SSN"] }), text).toEqual([["US_SSN", "123456789"]]);
    }
    expect(spans("123456789 is my ssn", { classes: ["US_SSN"] })).toEqual([["US_SSN", "123456789"]]);
    expectNone("US_SSN", ["invoice 123456789 paid", "SSN: 000456789", "SSN: 666456789", "SSN: 1234567890", "ssn-style id 12345678"]);
  });
  it("EMAIL: quoted local parts, IDN domains, fullwidth ＠, unspaced scripts around", () => {
    expectFound("EMAIL", [
      '"john doe"@example.com',
      "用户@例子.中国",
      "info@münchen.de",
      "jane＠example.com",
      "müller.jörg@example.de",
      "user@xn--mnchen-3ya.de",
    ]);
    for (const [text, value] of [
      ["邮箱jane@example.com谢谢", "jane@example.com"],
      ["メールはtaro@example.jpです", "taro@example.jp"],
    ] as const)
      expect(spans(text, { classes: ["EMAIL"] })).toEqual([["EMAIL", value]]);
    expectNone("EMAIL", ["@handle and a@b and x@y.z1", '"unterminated@example', 'say "hi"@ noon', "user@例子"]);
  });
  it("PHONE: Chinese mobiles with --region CN, in any case; not bare digits elsewhere", () => {
    expectFound("PHONE", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "+8613812345678"], { classes: ["PHONE"], defaultCountry: "CN" });
    expectFound("PHONE", ["13812345678"], { classes: ["PHONE"], defaultCountry: "cn" as never });
    expectNone("PHONE", ["order 12345678901 and 1381234567 and 138123456789"], { classes: ["PHONE"], defaultCountry: "CN" });
    expectNone("PHONE", ["order 13812345678"], { classes: ["PHONE"], defaultCountry: "US" });
  });
  it("PHONE: past the libphonenumber budget of a text, numbers are judged by their plan's patterns (a flood still fails closed)", () => {
    const numbers = Array.from({ length: 5000 }, (_, i) => `+1 415 555 ${String(1000 + i).padStart(4, "0")}`);
    const text = `${numbers.join(" / ")} / +1 123 456 7890 / +44 20 7946 0958`;
    const found = detect(text, buildDetectors({ classes: ["PHONE"] }));
    const rules = new Set(found.map((e) => e.rule));
    expect(found.length).toBe(5001); // every valid number, not the one with area code 123
    expect(rules).toEqual(new Set(["phone-US", "phone-shape"]));
    expect(found.map((e) => text.slice(e.start, e.end))).not.toContain("+1 123 456 7890");
    expect(found.at(-1)).toMatchObject({ rule: "phone-shape" });
    expect(text.slice(found.at(-1)?.start, found.at(-1)?.end)).toBe("+44 20 7946 0958");
  });
});
