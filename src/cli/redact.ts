import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { CountryCode } from "libphonenumber-js";
import { UserError } from "../util/errors.js";
import { list } from "./output.js";

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A region code as libphonenumber knows it, in any case ("cn" is CN); anything else is a UserError naming the valid ones. */
async function phoneRegion(raw: string): Promise<CountryCode> {
  const { getCountries } = await import("libphonenumber-js");
  const code = raw.trim().toUpperCase();
  const known = getCountries();
  if (!(known as string[]).includes(code))
    throw new UserError(`--region: unknown region "${raw}"`, `use an ISO 3166 alpha-2 code with a phone numbering plan (any case): ${known.join(", ")}`);
  return code as CountryCode;
}

export function registerRedact(program: Command): void {
  program
    .command("redact")
    .description("detect sensitive data in text on stdin (emails, phones, cards, IBANs, SSNs, IPs, secrets) and print it redacted")
    .option("--json", 'print {"entities": [{"type", "start", "end"}], "redacted": "..."} (offsets index the JavaScript string)')
    .option("--jsonl", 'read one {"text": "..."} per line, write one result per line, in order')
    .option("--classes <names>", "only these classes: EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS, SECRET", list)
    .option("--region <CC>", "default country for phone numbers without +code (ISO 3166 alpha-2, any case; CN also finds unbroken mobile numbers)", "US")
    .addHelpText(
      "after",
      `
Detectors validate rather than just match: Luhn and card networks, IBAN mod-97, SSA rules for SSNs,
real phone numbering plans (libphonenumber-js), IPv4/IPv6 parsing, provider key formats and JWTs.

Examples:
  echo "Mail jane@example.com, card 4111 1111 1111 1111" | weightbridge redact
  weightbridge redact --json < ticket.txt
  weightbridge redact --jsonl --classes EMAIL,PHONE < tickets.jsonl > redacted.jsonl`,
    )
    .action(async (o: { json?: boolean; jsonl?: boolean; classes?: string[]; region: string }) => {
      const { BUILTIN_CLASSES, buildDetectors, detect, redact } = await import("../detect/index.js");
      for (const c of o.classes ?? [])
        if (!(BUILTIN_CLASSES as readonly string[]).includes(c))
          throw new UserError(`--classes: unknown class "${c}"`, `known classes: ${BUILTIN_CLASSES.join(", ")}`);
      const region = await phoneRegion(o.region);
      const detectors = buildDetectors({ ...(o.classes ? { classes: o.classes } : {}), defaultCountry: region });
      const one = (text: string) => {
        const entities = detect(text, detectors);
        return { entities: entities.map((e) => ({ type: e.type, start: e.start, end: e.end })), redacted: redact(text, entities).redacted };
      };
      if (o.jsonl) {
        let n = 0;
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
          n++;
          if (line.trim() === "") continue;
          let text: unknown;
          try {
            text = (JSON.parse(line) as { text?: unknown }).text;
          } catch {
            text = undefined;
          }
          if (typeof text !== "string")
            throw new UserError(`stdin line ${n}: expected {"text": "..."}`, "with --jsonl every line is one JSON object with a text field");
          process.stdout.write(`${JSON.stringify(one(text))}\n`);
        }
        return;
      }
      const text = await readAll();
      const r = one(text);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(r.redacted);
    });
}
