#!/usr/bin/env node
/**
 * The gateway's own logic per request, without sockets: the steps the pipeline runs on the
 * benchmark's request (bench/gateway-fixture.mjs, unique ticket text) and on the stub's answer —
 * shape check, walk and detection of every string (with the split-value join), the upstream body
 * serialised and hashed, the answer parsed, scanned and re-serialised — against the detection a
 * minimal detecting proxy cannot skip (bench/reference-proxy.mjs "every": `detect` on every string
 * of the request and of the answer), in the same process. CPU time (process.cpuUsage), so the
 * figure moves less with the machine's load than the end-to-end run does; each measured in
 * alternating rounds, medians reported.
 *
 *   npm run build && node bench/gateway-steps.mjs                 # this checkout
 *   BASE_ROOT=/tmp/wb-old node bench/gateway-steps.mjs            # + another built checkout, same rounds
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { body } from "./gateway-fixture.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const N = Number(process.env.N ?? 5000);
const answer = JSON.stringify({
  id: "b",
  object: "chat.completion",
  created: 0,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "shipping" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 24, completion_tokens: 2, total_tokens: 26 },
});

async function stepsOf(root) {
  const m = (p) => import(pathToFileURL(join(root, "dist", p)).href);
  const [{ buildDetectors, detectAcross, detect }, ins, ans, shape, audit] = await Promise.all([
    m("detect/index.js"),
    m("gateway/inspect.js"),
    m("gateway/answer-scan.js"),
    m("gateway/request-shape.js"),
    m("gateway/audit-log.js"),
  ]);
  const detectors = buildDetectors({});
  let n = 0;
  return {
    async gateway() {
      const b = JSON.parse(body.replace("58213-77", `58213-${n++}`));
      if (shape.shapeProblem("chat", b)) throw new Error("shape");
      const i = await ins.inspectBody(b, detectors, (t, d) => detectAcross(t, d));
      const sent = ins.sentValuesOf(i);
      const red = ins.redactBody(b, i, []);
      const bytes = JSON.stringify({ ...red.body, model: "qwen" });
      audit.sha256Hex(bytes);
      const s = await ans.scanWholeAnswer(answer, { contentType: "application/json" }, { detectors, window: 128, redact: false, sent });
      if (!s.scanned) throw new Error("answer");
    },
    async reference() {
      const every = (v) => {
        if (typeof v === "string") return detect(v).length;
        if (v === null || typeof v !== "object") return 0;
        let k = 0;
        if (Array.isArray(v)) for (const x of v) k += every(x);
        else for (const key in v) k += detect(key).length + every(v[key]);
        return k;
      };
      const b = JSON.parse(body.replace("58213-77", `58213-${n++}`));
      every(b);
      JSON.stringify({ ...b, model: "internal" });
      every(JSON.parse(answer));
    },
  };
}

const runs = [["this checkout", await stepsOf(process.cwd())]];
if (process.env.BASE_ROOT) runs.push([`base (${process.env.BASE_ROOT})`, await stepsOf(process.env.BASE_ROOT)]);
const rows = new Map();
const time = async (f) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N; // µs per request
};
// Warm-up (JIT).
for (const [, s] of runs)
  for (let i = 0; i < 2000; i++) {
    await s.gateway();
    await s.reference();
  }
for (let r = 0; r < ROUNDS; r++)
  for (const [name, s] of r % 2 ? [...runs].reverse() : runs)
    for (const kind of ["gateway", "reference"]) {
      const key = `${name}: ${kind === "gateway" ? "gateway steps" : "reference detection (every string)"}`;
      rows.set(key, [...(rows.get(key) ?? []), await time(s[kind])]);
    }
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| run (${ROUNDS} rounds of ${N} requests) | µs of CPU per request, median [range] |\n| --- | --- |`);
for (const [k, xs] of rows) console.log(`| ${k} | ${med(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}, ${Math.max(...xs).toFixed(1)}] |`);
console.log(`load average: ${(await import("node:fs")).readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
