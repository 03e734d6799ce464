import { describe, expect, it } from "vitest";
import { buildDetectors, detect, ibanValid, ipv6Valid, luhnValid, redact, restore, ssnValid } from "../../src/detect/index.js";

const types = (text: string, opts?: Parameters<typeof buildDetectors>[0]) =>
  detect(text, buildDetectors(opts)).map((e) => [e.type, text.slice(e.start, e.end)]);

describe("validators", () => {
  it("Luhn, IBAN mod-97, SSA rules, IPv6 structure", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(ibanValid("DE89370400440532013000")).toBe(true);
    expect(ibanValid("DE89370400440532013001")).toBe(false);
    expect(ibanValid("GB82WEST12345698765432")).toBe(true);
    expect(ibanValid("GB82WEST1234569876543")).toBe(false); // wrong length for GB
    expect(ssnValid("123", "45", "6789")).toBe(true);
    for (const [a, g, s] of [
      ["000", "12", "3456"],
      ["666", "12", "3456"],
      ["912", "12", "3456"],
      ["123", "00", "3456"],
      ["123", "45", "0000"],
    ])
      expect(ssnValid(a as string, g as string, s as string)).toBe(false);
    expect(ipv6Valid("2001:db8::8a2e:370:7334")).toBe(true);
    expect(ipv6Valid("::ffff:192.0.2.1")).toBe(true);
    expect(ipv6Valid("2001:db8::1::2")).toBe(false);
    expect(ipv6Valid("12:30:45")).toBe(false);
  });
});

describe("detectors find the real thing and skip near-misses", () => {
  it("EMAIL", () => {
    expect(types("write to jane.doe+tickets@example.co.uk today.")).toEqual([["EMAIL", "jane.doe+tickets@example.co.uk"]]);
    expect(types("ping @channel or user@localhost or a@b.c1")).toEqual([]);
  });
  it("CREDIT_CARD: Luhn-valid numbers of real networks, with or without separators", () => {
    expect(types("card 4111 1111 1111 1111 exp 12/29")).toEqual([["CREDIT_CARD", "4111 1111 1111 1111"]]);
    expect(types("amex 3782-822463-10005")).toEqual([["CREDIT_CARD", "3782-822463-10005"]]);
    expect(types("order 4111111111111112 shipped")).toEqual([]); // fails Luhn
    expect(types("tracking 1234567812345670")).toEqual([]); // passes Luhn, no card network
  });
  it("IBAN with a valid checksum only", () => {
    expect(types("pay to DE89 3704 0044 0532 0130 00 please")).toEqual([["IBAN", "DE89 3704 0044 0532 0130 00"]]);
    expect(types("pay to DE89 3704 0044 0532 0130 01 please")).toEqual([]);
  });
  it("US_SSN by SSA rules", () => {
    expect(types("SSN 123-45-6789.")).toEqual([["US_SSN", "123-45-6789"]]);
    expect(types("SSN 666-45-6789, 123-00-6789, 900-12-3456")).toEqual([]);
  });
  it("IP_ADDRESS v4 and v6, not version strings", () => {
    expect(types("server at 192.168.1.20 and 2001:db8::8a2e:370:7334.")).toEqual([
      ["IP_ADDRESS", "192.168.1.20"],
      ["IP_ADDRESS", "2001:db8::8a2e:370:7334"],
    ]);
    expect(types("upgrade to v1.2.3.4 or version 10.0.19045.1; 999.1.1.1; meeting at 12:30:45")).toEqual([]);
  });
  it("PHONE with real numbering plans, not order numbers", () => {
    expect(types("call +44 20 7946 0958 or (415) 555-2671")).toEqual([
      ["PHONE", "+44 20 7946 0958"],
      ["PHONE", "(415) 555-2671"],
    ]);
    expect(types("order 20250112345678 and invoice 4155552671")).toEqual([]);
  });
  it("SECRET: provider keys, private keys and JWTs", () => {
    const jwt = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"sub":"1234567890"}').toString("base64url")}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;
    const text = `keys: sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWxYz12 AKIAIOSFODNN7EXAMPLE ghp_${"a1B2c3D4".repeat(5)} token ${jwt}\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----`;
    const found = detect(text, buildDetectors({ classes: ["SECRET"] }));
    expect(found.map((e) => e.rule)).toEqual(["openai-key", "aws-access-key", "github-token", "jwt", "private-key"]);
    expect(types("the sk-learn docs, task-management, eyJustAWord")).toEqual([]);
  });
  it("SECRET: every rule fires on its own (each is skipped only when its anchor is absent)", () => {
    const samples: Record<string, string> = {
      "anthropic-key": `sk-ant-api03-${"Ab3dEf6hIj".repeat(3)}`,
      "openai-key": "sk-svcacct-Ab3dEf6hIj9kLmN0pQrStUvWxYz12",
      "aws-access-key": "ASIAIOSFODNN7EXAMPLE",
      "github-token": `github_pat_${"A1b2C3d4E5".repeat(3)}`,
      "slack-token": "xoxb-1234567890-abcdefghij",
      "google-api-key": `AIza${"Sy".repeat(17)}A`,
      "stripe-key": "rk_live_0123456789abcdefABCD",
      "huggingface-token": `hf_${"aBcDeFgHiJ".repeat(3)}x`,
      "private-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----",
    };
    for (const [rule, token] of Object.entries(samples)) {
      const text = `before ${token} after`;
      expect(detect(text, buildDetectors({ classes: ["SECRET"] })).map((e) => [e.rule, text.slice(e.start, e.end)])).toEqual([[rule, token]]);
    }
  });
  it("custom classes: terms and regexes", () => {
    expect(
      types("Project Bluebird ships with ticket ACME-1234.", {
        classes: ["CODENAME"],
        custom: [{ name: "CODENAME", terms: ["bluebird"], patterns: ["ACME-\\d{4}"] }],
      }),
    ).toEqual([
      ["CODENAME", "Bluebird"],
      ["CODENAME", "ACME-1234"],
    ]);
    expect(types("bluebirds fly", { classes: ["CODENAME"], custom: [{ name: "CODENAME", terms: ["bluebird"] }] })).toEqual([]);
  });
  it("custom classes: a pattern that can match empty text steps on, also past astral characters", () => {
    const opts = { classes: ["REF"], custom: [{ name: "REF", patterns: ["\\d*"] }] };
    expect(types("a12b3 😀 45", opts)).toEqual([
      ["REF", "12"],
      ["REF", "3"],
      ["REF", "45"],
    ]);
    expect(types("Café 😀 Ærø ships; ærø again", { classes: ["CODENAME"], custom: [{ name: "CODENAME", terms: ["ærø"] }] })).toEqual([
      ["CODENAME", "Ærø"],
      ["CODENAME", "ærø"],
    ]);
  });
});

describe("redaction", () => {
  it("numbers placeholders per class, reuses them for repeated values, and restores answers", () => {
    const text = "Email jane@example.com or JANE@example.com; again jane@example.com. Card 4111 1111 1111 1111.";
    const r = redact(text, detect(text));
    expect(r.redacted).toBe("Email [EMAIL_1] or [EMAIL_2]; again [EMAIL_1]. Card [CREDIT_CARD_1].");
    expect(restore("I wrote to [EMAIL_1] about [CREDIT_CARD_1].", r.placeholders)).toBe("I wrote to jane@example.com about 4111 1111 1111 1111.");
  });
  it("repeated texts give the same entities, as copies the caller may change", () => {
    const d = buildDetectors();
    const text = "Reach jane@example.com or 4111 1111 1111 1111";
    const first = detect(text, d);
    for (let i = 0; i < 3; i++) {
      const again = detect(text, d); // 2nd sighting caches the result, 3rd and 4th come from the cache
      expect(again).toEqual(first);
      (again[0] as { start: number }).start = -1;
    }
    // Many unique texts between sightings (past the cache's bounds) change nothing either.
    for (let i = 0; i < 10_000; i++) detect(`ticket ${i}: mail a${i}@example.com`, d);
    expect(detect(text, d)).toEqual(first);
    expect(detect("ticket 42: mail a42@example.com", d).map((e) => e.type)).toEqual(["EMAIL"]);
  });
  it("offsets index the JavaScript string", () => {
    const text = "😀 mail: x@example.org";
    const [e] = detect(text);
    expect(text.slice(e?.start, e?.end)).toBe("x@example.org");
  });
});

// Linearity on adversarial inputs: test/detect/linear.test.ts (ratios, not wall-clock times).

describe("weightbridge redact", () => {
  it("redacts stdin, prints --json with offsets, and --jsonl line by line in order", async () => {
    const { spawnSync } = await import("node:child_process");
    const { BIN } = await import("../support/cli.js");
    const run = (args: string[], input: string) => spawnSync(process.execPath, [BIN, "redact", ...args], { input, encoding: "utf8" });
    const plain = run([], "Mail jane@example.com, card 4111 1111 1111 1111\n");
    expect(plain.stdout).toBe("Mail [EMAIL_1], card [CREDIT_CARD_1]\n");
    const json = JSON.parse(run(["--json"], "SSN 123-45-6789").stdout) as { entities: unknown[]; redacted: string };
    expect(json).toEqual({ entities: [{ type: "US_SSN", start: 4, end: 15 }], redacted: "SSN [US_SSN_1]" });
    const lines = run(["--jsonl", "--classes", "EMAIL"], '{"text": "a@example.com"}\n{"text": "none here, 4111 1111 1111 1111"}\n').stdout.trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { redacted: string }).redacted)).toEqual(["[EMAIL_1]", "none here, 4111 1111 1111 1111"]);
    const bad = run(["--classes", "EMIAL"], "x");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown class "EMIAL"/);
  });
  it("--region in any case (cn finds unbroken Chinese mobiles); an unknown region is one line naming the valid ones, exit 2", async () => {
    const { spawnSync } = await import("node:child_process");
    const { BIN } = await import("../support/cli.js");
    const run = (args: string[], input: string) => spawnSync(process.execPath, [BIN, "redact", ...args], { input, encoding: "utf8" });
    for (const region of ["cn", "CN", "Cn"])
      expect(run(["--region", region], "call 13812345678 or +86 138 1234 5678").stdout).toBe("call [PHONE_1] or [PHONE_2]");
    const bad = run(["--region", "ZZ"], "x");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error: --region: unknown region "ZZ"\nhint: .*\bCN\b.*\bUS\b/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
