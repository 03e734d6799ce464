#!/usr/bin/env node
/**
 * What shadow mode costs the caller (issue 20: "mirroring under load adds <= 1 ms to the primary
 * path's p50 at 500 req/s"): two `weightbridge gateway` processes on the same stub, one with the
 * route's shadow on (every request mirrored to a third deployment on a second stub: sample 1, the
 * worst case), one without, measured in the same rounds in alternating order with autocannon at a
 * fixed offered rate. The figure is p50(on) − p50(off) per round; autocannon's percentiles are whole
 * milliseconds, so the mean is printed too.
 *
 *   node bench/shadow.mjs [--rate 500] [--rounds 3] [--duration 10] [--warmup 5] [--sample 1]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { quantile } from "../dist/stats/quantile.js";
import { body, cpuMs, freePort, gatewayYaml, start, uniqueTickets } from "./gateway-fixture.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RATE = Number(arg("rate", "500"));
const ROUNDS = Number(arg("rounds", "3"));
const DURATION = Number(arg("duration", "10"));
const WARMUP = Number(arg("warmup", "5"));
const SAMPLE = Number(arg("sample", "1"));
const BIN = fileURLToPath(new URL("../bin/weightbridge.js", import.meta.url));
const STUB = fileURLToPath(new URL("./stub.mjs", import.meta.url));
const med = (xs) => quantile(xs, 0.5);

/** The fixture's gateway, plus (shadow on) a candidate deployment on the second stub that accepts EMAIL, so every request is mirrored. */
function yaml(stubPort, shadowPort, listen, shadow) {
  const base = gatewayYaml(stubPort, listen);
  if (!shadow) return base;
  return base
    .replace(
      "routes:",
      `  - id: candidate\n    baseUrl: http://127.0.0.1:${shadowPort}/v1\n    model: open-model\n    accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS]\n    shadow: { concurrency: 64 }\nroutes:`,
    )
    .replace("onSensitive: reroute\n", `onSensitive: reroute\n    shadow: { targets: [candidate], sample: ${SAMPLE}, maxQueue: 100000 }\n`);
}

async function gateway(tag, stubPort, shadowPort, shadow) {
  const dir = mkdtempSync(join(tmpdir(), `wb-shadow-bench-${tag}-`));
  const port = await freePort();
  writeFileSync(join(dir, "gateway.yaml"), yaml(stubPort, shadowPort, `127.0.0.1:${port}`, shadow));
  const key = JSON.parse(execFileSync(process.execPath, [BIN, "keys", "create", "-c", join(dir, "gateway.yaml"), "--name", "bench", "--json"]).toString()).key;
  const proc = await start(process.execPath, [BIN, "gateway", "-c", join(dir, "gateway.yaml")], /weightbridge gateway on/);
  return { name: shadow ? `shadow on (sample ${SAMPLE})` : "shadow off", url: `http://127.0.0.1:${port}/v1/chat/completions`, key, proc, dir };
}

const stubPort = await freePort();
const shadowPort = await freePort();
const stub = await start(process.execPath, [STUB, String(stubPort), "0"], /stub listening/);
const shadowStub = await start(process.execPath, [STUB, String(shadowPort), "0"], /stub listening/);
const off = await gateway("off", stubPort, shadowPort, false);
const on = await gateway("on", stubPort, shadowPort, true);
const { requests } = uniqueTickets();
const run = (g, duration) =>
  autocannon({
    url: g.url,
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${g.key}` },
    body,
    requests,
    connections: 32,
    overallRate: RATE,
    duration,
  });
const rows = [];
try {
  for (const g of [off, on]) await run(g, WARMUP);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? [off, on] : [on, off];
    const m = new Map();
    for (const g of order) {
      const cpu0 = cpuMs(g.proc.pid);
      const r = await run(g, DURATION);
      m.set(g, {
        cpu: (cpuMs(g.proc.pid) - cpu0) / Math.max(1, r.requests.total),
        p50: r.latency.p50,
        p99: r.latency.p99,
        mean: r.latency.average,
        achieved: r.requests.average,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      });
    }
    rows.push({ round, off: m.get(off), on: m.get(on) });
    const a = m.get(off);
    const b = m.get(on);
    console.log(
      `round ${round}: off p50 ${a.p50} / mean ${a.mean.toFixed(2)} / p99 ${a.p99} ms (${a.achieved.toFixed(0)} req/s, non-2xx ${a.non2xx}, CPU ${a.cpu.toFixed(3)} ms/req); on p50 ${b.p50} / mean ${b.mean.toFixed(2)} / p99 ${b.p99} ms (${b.achieved.toFixed(0)} req/s, non-2xx ${b.non2xx}, CPU ${b.cpu.toFixed(3)} ms/req)`,
    );
  }
  const d = (k) => rows.map((r) => r.on[k] - r.off[k]);
  const span = (xs) => `${med(xs).toFixed(2)} [${Math.min(...xs).toFixed(2)}, ${Math.max(...xs).toFixed(2)}]`;
  console.log(`\n${RATE} req/s offered, ${ROUNDS} rounds of ${DURATION} s, shadow sample ${SAMPLE}:`);
  console.log(`| | p50 ms | mean ms | p99 ms | gateway CPU ms/req |\n|---|---|---|---|---|`);
  for (const k of ["off", "on"])
    console.log(
      `| ${k === "on" ? on.name : off.name} | ${med(rows.map((r) => r[k].p50))} | ${med(rows.map((r) => r[k].mean)).toFixed(2)} | ${med(rows.map((r) => r[k].p99))} | ${med(rows.map((r) => r[k].cpu)).toFixed(3)} |`,
    );
  console.log(`| added by shadow (on − off, per round) | ${span(d("p50"))} | ${span(d("mean"))} | ${span(d("p99"))} | ${span(d("cpu"))} |`);
  const ratio = rows.map((r) => r.on.cpu / r.off.cpu);
  console.log(`gateway CPU per request, on / off: ${span(ratio)}`);
} finally {
  for (const p of [off.proc, on.proc, stub, shadowStub]) p.kill("SIGTERM");
}
// How many pairs the shadow gateway stored (after its SIGTERM drained the queue).
await new Promise((r) => setTimeout(r, 3000));
try {
  const out = execFileSync(process.execPath, [BIN, "shadow", "report", "-c", join(on.dir, "gateway.yaml"), "--json"]).toString();
  const c = JSON.parse(out).candidates[0];
  console.log(`shadow gateway stored ${c.pairs} pairs (${c.missing} missing, ${c.failed} failed, ${c.dropped} dropped)`);
} catch (e) {
  console.log(`shadow report failed: ${e.message}`);
}
