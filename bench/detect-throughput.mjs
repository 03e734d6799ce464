#!/usr/bin/env node
/**
 * Sensitive-data detection throughput per input family, normal text and adversarial floods (issue
 * 14: ≤ 0.5 s per MB on any input). Reference, measured in the same run on the same string: one
 * `JSON.parse` of the text as a JSON string (what the gateway pays anyway to read a body), and one
 * `indexOf` pass. Figures: MB/s of UTF-16 text (1 MB = 10^6 characters), s/MB, and × JSON.parse.
 * Times are CPU time of this process (process.cpuUsage), the median of RUNS: on a shared machine
 * wall time also counts other processes' turns on the cores.
 *
 *   npm run build && node bench/detect-throughput.mjs            # 1 MB per family, median of 3
 *   MB=2 RUNS=5 node bench/detect-throughput.mjs
 *   BEFORE=/path/to/old/dist/gateway/detect/index.js node bench/detect-throughput.mjs   # + an older build, 1 run each
 */
import { buildDetectors, detect, detectAcross } from "../dist/detect/index.js";

const before = process.env.BEFORE ? await import(process.env.BEFORE) : undefined;

const MB = Number(process.env.MB ?? 1);
const RUNS = Number(process.env.RUNS ?? 3);
const size = Math.round(MB * 1e6);
const fill = (unit) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

const b64 = (s) => Buffer.from(s).toString("base64");
const ticket =
  "Hi team, customer Jane Roe (jane.roe@example.com, +1 415 555 2671) says the card 4111 1111 1111 1111 was charged twice " +
  "on 2026-11-28. Order #48213, build 10.0.19045.1, from 192.168.10.20. Please refund to DE89 3704 0044 0532 0130 00. Thanks!\n";
const families = {
  "normal text (tickets with PII)": fill(ticket),
  "normal text, Chinese (non-ASCII path)": fill("客户张伟说他的卡号４１１１ １１１１ １１１１ １１１１被扣了两次，邮箱zhang＠example.com，电话13812345678。\n"),
  "eyJ- runs": fill("eyJ-"),
  "JWT-like eyJ….eyJ… without signature": fill("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0."),
  "PEM headers without END": fill("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n"),
  "digit groups (card-like)": fill("4111 1111 "),
  "digit groups (phone-like, valid numbers)": fill("+1 415 555 2671 "),
  "single digits with separators": fill("1-2.3 4/"),
  "@ flood": fill("a@"),
  "@ with long labels": fill(`x@${"a".repeat(60)}.`),
  "base64 flood (printable, decodes)": fill(`${b64("hello world, card 4111")} `),
  "one long base64 run": fill("QUFB"),
  "repeated context words": fill("SSN social security soc sec 12345678 "),
  "zero-width flood": fill("4\u200b"),
  "fullwidth digits": fill("４１１１\u3000"),
};

/** Median CPU milliseconds of `runs` calls. */
function time(f, runs = RUNS) {
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    ts.push((d.user + d.system) / 1000);
  }
  return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
}

/** s/MB of the older build, "throws" when it does. */
function beforeSPerMb(text) {
  if (!before) return undefined;
  try {
    const d = before.buildDetectors();
    return `${(time(() => before.detect(text, d), 1) / 1000 / (text.length / 1e6)).toFixed(3)}`;
  } catch (e) {
    return `throws (${e.constructor.name})`;
  }
}

const detectors = buildDetectors();
const rows = [];
for (const [name, text] of Object.entries(families)) {
  const json = JSON.stringify(text);
  const tJson = time(() => JSON.parse(json));
  const tIdx = time(() => text.indexOf("\u0001"));
  detect(text, detectors); // warm up
  const tDetect = time(() => detect(text, detectors));
  rows.push({
    name,
    mbs: size / 1e6 / (tDetect / 1000),
    sPerMb: tDetect / 1000 / (size / 1e6),
    xJson: tDetect / tJson,
    xIdx: tDetect / tIdx,
    before: beforeSPerMb(text),
  });
}
// Split across texts: the same tickets as 1,000 texts of one request.
{
  const text = families["normal text (tickets with PII)"];
  const parts = Array.from({ length: 1000 }, (_, i) => text.slice((i * text.length) / 1000, ((i + 1) * text.length) / 1000));
  const json = JSON.stringify(parts);
  const tJson = time(() => JSON.parse(json));
  const t = time(() => detectAcross(parts, detectors));
  rows.push({
    name: "detectAcross, tickets in 1,000 texts",
    mbs: size / 1e6 / (t / 1000),
    sPerMb: t / 1000 / (size / 1e6),
    xJson: t / tJson,
    xIdx: Number.NaN,
  });
}

console.log(`detection throughput, ${MB} MB per family, median of ${RUNS} (Node ${process.version})`);
console.log(`| family | MB/s | s/MB | × JSON.parse | × indexOf |${before ? " before: s/MB |" : ""}`);
console.log(`| --- | ---: | ---: | ---: | ---: |${before ? " ---: |" : ""}`);
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.mbs.toFixed(1)} | ${r.sPerMb.toFixed(3)} | ${r.xJson.toFixed(1)} | ${Number.isNaN(r.xIdx) ? "–" : r.xIdx.toFixed(0)} |${before ? ` ${r.before ?? "–"} |` : ""}`,
  );
const worst = rows.reduce((a, b) => (a.sPerMb > b.sPerMb ? a : b));
console.log(`worst: ${worst.name}, ${worst.sPerMb.toFixed(3)} s/MB (target ≤ 0.5)`);
