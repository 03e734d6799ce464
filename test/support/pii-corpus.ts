/**
 * A labelled corpus for the gateway's detectors, generated from a seed: sentences in the forms
 * support tickets, logs and chats use, each with known entity spans, plus near-misses that must not
 * be flagged (order numbers failing Luhn, IBANs with a bad checksum, invalid SSNs, version strings,
 * dates, tracking numbers, UUIDs, hashes). Values are generated, not copied: valid card numbers by
 * Luhn, IBANs by mod-97, phone numbers perturbed from libphonenumber's examples and kept only when
 * they are valid numbers, SSNs by the SSA rules. Besides the plain forms: the formats people type
 * (cards with dots, slashes, mixed separators and line breaks; IBANs with dashes or double spaces;
 * nine-digit SSNs beside a context word; quoted and IDN emails) and obfuscated values (zero-width
 * and format characters, soft hyphens, fullwidth and Arabic-Indic digits, fullwidth forms, base64,
 * hex), with near-misses for each.
 */
import { type CountryCode, getExampleNumber, parsePhoneNumberFromString } from "libphonenumber-js";
import examples from "libphonenumber-js/examples.mobile.json" with { type: "json" };
import { seededRng } from "../../src/stats/rng.js";

export interface Labelled {
  text: string;
  entities: { type: string; start: number; end: number }[];
}

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const digits = (r: Rng, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join("");
const alnum = (r: Rng, n: number, chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") =>
  Array.from({ length: n }, () => chars[Math.floor(r() * chars.length)]).join("");

function luhnComplete(prefix: string, length: number, r: Rng): string {
  let body = prefix + digits(r, length - prefix.length - 1);
  for (let c = 0; c < 10; c++) {
    const candidate = body + c;
    let sum = 0;
    let dbl = false;
    for (let i = candidate.length - 1; i >= 0; i--) {
      let d = Number(candidate[i]);
      if (dbl) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      dbl = !dbl;
    }
    if (sum % 10 === 0) return candidate;
  }
  body = "";
  return body;
}

function card(r: Rng): string {
  const kind = pick(r, ["visa", "mc", "amex", "discover", "visa"]);
  const num =
    kind === "visa"
      ? luhnComplete("4", 16, r)
      : kind === "mc"
        ? luhnComplete(pick(r, ["51", "52", "53", "54", "55", "2221", "2720"]), 16, r)
        : kind === "amex"
          ? luhnComplete(pick(r, ["34", "37"]), 15, r)
          : luhnComplete("6011", 16, r);
  const sep = pick(r, [" ", "-", ""]);
  if (kind === "amex") return sep ? [num.slice(0, 4), num.slice(4, 10), num.slice(10)].join(sep) : num;
  return sep ? (num.match(/.{4}/g) as string[]).join(sep) : num;
}

/** A card as people type it: dots, slashes, double spaces, mixed separators, a line break. */
function typedCard(r: Rng): string {
  const num = luhnComplete(pick(r, ["4", "51", "6011"]), 16, r);
  const g = num.match(/.{4}/g) as string[];
  const style = pick(r, [".", "/", "  ", "mixed", "newline", " - "]);
  if (style === "mixed") return `${g[0]}-${g[1]} ${g[2]}.${g[3]}`;
  if (style === "newline") return `${g[0]} ${g[1]}\n${g[2]} ${g[3]}`;
  return g.join(style);
}

function mod97(s: string): number {
  let rem = 0;
  for (const ch of s) {
    const v = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem;
}

function bban(r: Rng, country: string): string {
  switch (country) {
    case "DE":
      return digits(r, 18);
    case "GB":
      return alnum(r, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + digits(r, 14);
    case "FR":
      return `${digits(r, 10)}${alnum(r, 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}${digits(r, 2)}`;
    case "NL":
      return alnum(r, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + digits(r, 10);
    case "ES":
      return digits(r, 20);
    default:
      return digits(r, 16);
  }
}
const IBAN_COUNTRIES = ["DE", "GB", "FR", "NL", "ES"];

function iban(r: Rng, valid = true): string {
  const c = pick(r, IBAN_COUNTRIES);
  const b = bban(r, c);
  let check = 98 - mod97(`${b}${c}00`);
  if (!valid) check = ((check + 1 + Math.floor(r() * 90)) % 97) + 2;
  const raw = `${c}${String(check).padStart(2, "0")}${b}`;
  return r() < 0.5 ? raw : (raw.match(/.{1,4}/g) as string[]).join(" ");
}

/** An IBAN typed with dashes or double spaces between its groups. */
function typedIban(r: Rng): string {
  const groups = iban(r)
    .replace(/ /g, "")
    .match(/.{1,4}/g) as string[];
  return groups.join(pick(r, ["-", "  "]));
}

/** Nine digits together, with the word that makes them an SSN before them. */
function bareSsn(r: Rng): string {
  return `${pick(r, ["SSN ", "SSN: ", "social security number ", "Soc. Sec. #", "Sozialversicherungsnummer ", "numéro de sécurité sociale ", "社会安全号码"])}${ssn(r).replace(/-/g, "")}`;
}

function ssn(r: Rng): string {
  let area: number;
  do area = 1 + Math.floor(r() * 899);
  while (area === 666);
  const group = 1 + Math.floor(r() * 99);
  const serial = 1 + Math.floor(r() * 9999);
  return `${String(area).padStart(3, "0")}-${String(group).padStart(2, "0")}-${String(serial).padStart(4, "0")}`;
}

function badSsn(r: Rng): string {
  return pick(r, [`000-${digits(r, 2)}-1234`, `666-12-${digits(r, 4)}`, `9${digits(r, 2)}-12-3456`, `123-00-${digits(r, 4)}`, `123-45-0000`]);
}

const PHONE_COUNTRIES: CountryCode[] = ["US", "GB", "DE", "FR", "IN", "CN", "JP", "BR", "AU", "ES", "IT", "NL", "MX", "CA", "SG", "KR"];

function phone(r: Rng): string {
  for (;;) {
    const c = pick(r, PHONE_COUNTRIES);
    const ex = getExampleNumber(c, examples as never);
    if (!ex) continue;
    const nat = String(ex.nationalNumber);
    const changed = nat.slice(0, -3) + digits(r, 3);
    const n = parsePhoneNumberFromString(changed, c);
    if (!n?.isValid()) continue;
    const style = r();
    if (style < 0.45) return n.formatInternational();
    if (style < 0.6) return n.number; // E.164
    if (c === "US" || c === "CA") return n.formatNational();
    return n.formatInternational().replace(/ /g, pick(r, [" ", "-", "."]));
  }
}

function email(r: Rng): string {
  const first = pick(r, ["jane", "john", "li.wei", "maria", "o'neil", "dev+alerts", "a.b.c", "support", "x", "nguyen_van"]);
  const n = r() < 0.4 ? String(Math.floor(r() * 999)) : "";
  const dom = pick(r, ["example.com", "mail.example.co.uk", "corp.example.io", "example.de", "sub.domain.example.org", "example-shop.com"]);
  return `${first}${n}@${dom}`;
}

/** Quoted local parts, internationalised domains, a fullwidth at sign. */
function typedEmail(r: Rng): string {
  return pick(r, [
    `"${pick(r, ["john doe", "o.brien", "support team"])}"@${pick(r, ["example.com", "corp.example.io"])}`,
    `${pick(r, ["用户", "李伟", "info"])}@${pick(r, ["例子.中国", "münchen.de", "bücher.example"])}`,
    `${pick(r, ["jane", "max.mustermann"])}＠example.${pick(r, ["com", "de"])}`,
  ]);
}

function ipv4(r: Rng): string {
  const o = () => Math.floor(r() * 256);
  return pick(r, [`10.${o()}.${o()}.${o()}`, `192.168.${o()}.${o()}`, `${1 + Math.floor(r() * 223)}.${o()}.${o()}.${o()}`]);
}

function ipv6(r: Rng): string {
  const h = () => Math.floor(r() * 65536).toString(16);
  return pick(r, [`2001:db8::${h()}:${h()}`, `fe80::${h()}:${h()}:${h()}:${h()}`, Array.from({ length: 8 }, h).join(":"), `2a00:1450:4001:${h()}::${h()}`]);
}

function secret(r: Rng): string {
  const mixed = () => {
    let s: string;
    do s = alnum(r, 48);
    while (!(/[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s)));
    return s;
  };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return pick(r, [
    `sk-proj-${mixed()}`,
    `sk-ant-api03-${alnum(r, 90)}AA`,
    `AKIA${alnum(r, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
    `ghp_${alnum(r, 36)}`,
    `github_pat_${alnum(r, 22)}_${alnum(r, 59)}`,
    `xoxb-${digits(r, 12)}-${digits(r, 12)}-${alnum(r, 24)}`,
    `AIza${alnum(r, 35)}`,
    `sk_live_${alnum(r, 24)}`,
    `hf_${alnum(r, 34)}`,
    `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: digits(r, 8), name: "x", iat: 1700000000 })}.${alnum(r, 43)}`,
  ]);
}

/** Ways a value is hidden from a plain pattern; each keeps it readable to a model. */
const OBFUSCATIONS: ((v: string, r: Rng) => string)[] = [
  (v) => [...v].join("\u200b"),
  (v, r) => [...v].map((c, i) => (i === 0 ? c : pick(r, ["\u200c", "\u2060", "\ufeff", "\u00ad", ""]) + c)).join(""),
  (v) => v.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
  (v) => v.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d))),
  (v) => v.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  (v) => Buffer.from(v).toString("base64"),
  (v) => Buffer.from(v).toString("hex"),
];
const obfuscated =
  (gen: (r: Rng) => string) =>
  (r: Rng): string =>
    pick(r, OBFUSCATIONS)(gen(r), r);

const TEMPLATES = [
  "Hi, my {} is {X} — please update the account.",
  'Customer wrote: "you can reach me at {X}".',
  "{X}",
  "[2026-11-28T10:15:02Z] INFO request from {X} accepted",
  "Please refund to {X} asap, thanks!",
  "Details: {X}. Ticket #48213 (priority 2).",
  "Ich bin unter {X} erreichbar.",
  "Le client a donné {X} hier soir.",
  "联系方式：{X}，谢谢",
  "old value was {X}; new value pending",
];

const GENERATORS: Record<string, { label: string; gen: (r: Rng) => string }[]> = {
  EMAIL: [
    { label: "email", gen: email },
    { label: "email", gen: email },
    { label: "email", gen: typedEmail },
    { label: "email", gen: obfuscated(email) },
  ],
  PHONE: [
    { label: "phone number", gen: phone },
    { label: "phone number", gen: phone },
    { label: "phone number", gen: obfuscated(phone) },
  ],
  CREDIT_CARD: [
    { label: "card", gen: card },
    { label: "card", gen: card },
    { label: "card", gen: typedCard },
    { label: "card", gen: obfuscated(card) },
  ],
  IBAN: [
    { label: "IBAN", gen: (r) => iban(r) },
    { label: "IBAN", gen: (r) => iban(r) },
    { label: "IBAN", gen: typedIban },
    { label: "IBAN", gen: obfuscated((r) => iban(r)) },
  ],
  US_SSN: [
    { label: "SSN", gen: ssn },
    { label: "SSN", gen: ssn },
    { label: "SSN", gen: bareSsn },
    { label: "SSN", gen: obfuscated(ssn) },
  ],
  IP_ADDRESS: [
    { label: "IP", gen: ipv4 },
    { label: "IPv6 address", gen: ipv6 },
    { label: "IP", gen: obfuscated(ipv4) },
  ],
  SECRET: [
    { label: "API key", gen: secret },
    { label: "API key", gen: secret },
    { label: "API key", gen: obfuscated(secret) },
  ],
};

/** Near-misses: none of these may be flagged. */
function nearMiss(r: Rng): string {
  const bad16 = () => {
    const v = luhnComplete("4", 16, r);
    return v.slice(0, -1) + String((Number(v.at(-1)) + 1 + Math.floor(r() * 8)) % 10);
  };
  return pick(r, [
    `Order number ${bad16()} shipped.`,
    `Order ${bad16()
      .replace(/(.{4})/g, "$1 ")
      .trim()} is delayed.`,
    `IBAN ${iban(r, false)} was rejected.`,
    `SSN field had ${badSsn(r)} (invalid).`,
    `Upgraded to version ${1 + Math.floor(r() * 20)}.${Math.floor(r() * 30)}.${Math.floor(r() * 30)} yesterday.`,
    `Build 10.0.${19000 + Math.floor(r() * 999)}.${1000 + Math.floor(r() * 999)} is out.`,
    `Running v${Math.floor(r() * 9)}.${Math.floor(r() * 9)}.${Math.floor(r() * 9)}.${Math.floor(r() * 9)} now.`,
    `Meeting on 2026-${String(1 + Math.floor(r() * 12)).padStart(2, "0")}-${String(1 + Math.floor(r() * 28)).padStart(2, "0")} at 10:30.`,
    `Total: $${Math.floor(r() * 9000)},${digits(r, 3)}.${digits(r, 2)} incl. tax.`,
    `Tracking 1Z${alnum(r, 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}${digits(r, 10)} via UPS.`,
    `Request id ${alnum(r, 8, "0123456789abcdef")}-${alnum(r, 4, "0123456789abcdef")}-4${alnum(r, 3, "0123456789abcdef")}-a${alnum(r, 3, "0123456789abcdef")}-${alnum(r, 12, "0123456789abcdef")} failed.`,
    `Commit ${alnum(r, 40, "0123456789abcdef")} fixed it.`,
    `Room ${digits(r, 3)}, floor ${digits(r, 1)}, ext. ${digits(r, 4)}.`,
    `Postcode ${digits(r, 5)}-${digits(r, 4)} is in the file.`,
    `sk-test is not a key; neither is sk-${alnum(r, 8, "abcdefghijklmnopqrstuvwxyz")}.`,
    `Email me at the usual address (jane at example dot com).`,
    `Ratio was 3:2:1 and time 12:45:00.`,
    `Serial ${digits(r, 3)}-${digits(r, 3)}-${digits(r, 3)}-${digits(r, 3)} printed on the box.`,
    // Near-misses of the typed formats and the decoders.
    `Order ${bad16().replace(/(.{4})(?!$)/g, `$1${pick(r, [".", "/", "  ", "\n"])}`)} is delayed.`,
    `Due ${String(1 + Math.floor(r() * 28)).padStart(2, "0")}.${String(1 + Math.floor(r() * 12)).padStart(2, "0")}.2026 or 2026/${String(1 + Math.floor(r() * 12)).padStart(2, "0")}/${String(1 + Math.floor(r() * 28)).padStart(2, "0")}.`,
    `Build 6.1.${7600 + Math.floor(r() * 99)}.${24000 + Math.floor(r() * 999)} installed.`,
    `IBAN ${iban(r, false)
      .replace(/ /g, "")
      .match(/.{1,4}/g)
      ?.join("-")} was rejected.`,
    `Invoice ${ssn(r).replace(/-/g, "")} was paid.`,
    `Encoded note: ${Buffer.from(pick(r, ["hello world, see you soon", "order shipped on monday", "version 10.0.19045.1"])).toString(pick(r, ["base64", "hex"] as const))}.`,
    `Reach me at ${pick(r, ["user@例子", '"john doe" at example.com', "jane＠localhost"])} later.`,
    `Price ${digits(r, 2)},${digits(r, 2)} ＄ and ${digits(r, 3)}．${digits(r, 2)} today.`,
  ]);
}

export function generateCorpus(seed: number, perClass: number, negatives: number): Labelled[] {
  const r = seededRng(seed);
  const out: Labelled[] = [];
  for (const [type, gens] of Object.entries(GENERATORS))
    for (let i = 0; i < perClass; i++) {
      const g = pick(r, gens);
      const value = g.gen(r);
      const tpl = pick(r, TEMPLATES).replace("{}", g.label);
      const at = tpl.indexOf("{X}");
      out.push({ text: tpl.replace("{X}", value), entities: [{ type, start: at, end: at + value.length }] });
    }
  for (let i = 0; i < negatives; i++) out.push({ text: nearMiss(r), entities: [] });
  return out;
}
