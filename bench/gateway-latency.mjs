#!/usr/bin/env node
/**
 * Added latency of `weightbridge gateway` (detection on), side by side with a direct run against the
 * stub upstream (the floor), a minimal detecting proxy on node:http + undici (bench/reference-proxy.mjs:
 * the CPU floor for a safe stack, issue 14's "≤ 1.3× the reference") in its two modes (detection of
 * every string of the request and the answer, as a safe proxy must; and the older reference that
 * detects the message texts only) and Portkey's open-source gateway
 * pointed at the same stub. autocannon
 * at fixed offered rates, 32 connections; each server in its own process on this machine.
 *
 *   node bench/gateway-latency.mjs                                  # weightbridge and direct
 *   PORTKEY_DIR=/tmp/pk-gw node bench/gateway-latency.mjs           # + Portkey (npm i @portkey-ai/gateway there)
 *   node bench/gateway-latency.mjs --rates 500,1000 --rounds 5 --duration 10 --warmup 10
 *       # rounds of `duration` s per rate, servers in alternating order; warm-up (s) per server first
 *   BASE_ROOT=/tmp/wb-old node bench/gateway-latency.mjs            # + the gateway of another built checkout (A/B)
 *   node bench/gateway-latency.mjs --soak 300                       # 5-minute soak at 1,000 req/s: gateway RSS over time
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
const RATES = arg("rates", "500,1000").split(",").map(Number);
const DURATION = Number(arg("duration", "10"));
const ROUNDS = Number(arg("rounds", "5"));
const SOAK = Number(arg("soak", "0"));
const WARMUP = Number(arg("warmup", "10"));
const med = (xs) => quantile(xs, 0.5);
const BIN = fileURLToPath(new URL("../bin/weightbridge.js", import.meta.url));
const STUB = fileURLToPath(new URL("./stub.mjs", import.meta.url));
const REFERENCE = fileURLToPath(new URL("./reference-proxy.mjs", import.meta.url));

const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

const { requests } = uniqueTickets();

/** autocannon's options for one server at one offered rate (32 connections, unique tickets). */
const load = (url, headers, rate) => ({
  url,
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body,
  requests,
  connections: 32,
  overallRate: rate,
});

async function measure({ name, url, headers, pid }, rate) {
  const opts = load(url, headers, rate);
  await autocannon({ ...opts, duration: 3 }); // warm-up
  const cpu0 = cpuMs(pid);
  const r = await autocannon({ ...opts, duration: DURATION });
  return {
    cpuMsPerRequest: (cpuMs(pid) - cpu0) / Math.max(1, r.requests.total),
    name,
    rate,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    achieved: r.requests.average,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

const stubPort = await freePort();
const stub = await start(process.execPath, [STUB, String(stubPort), "0"], /stub listening/);
const dir = mkdtempSync(join(tmpdir(), "wb-gw-bench-"));
const gwPort = await freePort();
writeFileSync(join(dir, "gateway.yaml"), gatewayYaml(stubPort, `127.0.0.1:${gwPort}`));
const key = JSON.parse(execFileSync(process.execPath, [BIN, "keys", "create", "-c", join(dir, "gateway.yaml"), "--name", "bench", "--json"]).toString()).key;
const gw = await start(process.execPath, [BIN, "gateway", "-c", join(dir, "gateway.yaml")], /weightbridge gateway on/);
/** A gateway started from the checkout at `root` with its own config and store; its port and key. */
async function startGateway(root, tag) {
  const gdir = mkdtempSync(join(tmpdir(), `wb-gw-bench-${tag}-`));
  const port = await freePort();
  writeFileSync(join(gdir, "gateway.yaml"), gatewayYaml(stubPort, `127.0.0.1:${port}`));
  const bin = join(root, "bin/weightbridge.js");
  const k = JSON.parse(execFileSync(process.execPath, [bin, "keys", "create", "-c", join(gdir, "gateway.yaml"), "--name", "bench", "--json"]).toString()).key;
  const proc = await start(process.execPath, [bin, "gateway", "-c", join(gdir, "gateway.yaml")], /weightbridge gateway on/);
  return { port, key: k, proc };
}
const baseGw = process.env.BASE_ROOT ? await startGateway(process.env.BASE_ROOT, "base") : undefined;
const refPort = await freePort();
const reference = await start(
  process.execPath,
  [REFERENCE, String(refPort), `http://127.0.0.1:${stubPort}/v1`, "every"],
  /reference proxy \(every\) listening/,
);
const textsPort = await freePort();
const referenceTexts = await start(
  process.execPath,
  [REFERENCE, String(textsPort), `http://127.0.0.1:${stubPort}/v1`, "texts"],
  /reference proxy \(texts\) listening/,
);
const REF_EVERY = "reference proxy, detect every string (node:http + undici)";
const REF_TEXTS = "reference proxy, detect message texts only (before 2026-12-02)";
let portkey;
let pkPort;
if (process.env.PORTKEY_DIR) {
  pkPort = await freePort();
  portkey = await start(
    process.execPath,
    [join(process.env.PORTKEY_DIR, "node_modules/@portkey-ai/gateway/build/start-server.js"), `--port=${pkPort}`, "--headless"],
    /Ready for connections/,
  );
}

// Stopped early (Ctrl-C, kill): stop the servers started here too, not only this process.
for (const sig of ["SIGINT", "SIGTERM"])
  process.once(sig, () => {
    for (const p of [gw, stub, reference, referenceTexts, baseGw?.proc, portkey]) p?.kill("SIGTERM");
    process.exit(130);
  });

const rows = [];
try {
  if (SOAK > 0) {
    const samples = [];
    const t0 = Date.now();
    const timer = setInterval(() => samples.push([Math.round((Date.now() - t0) / 1000), rssMb(gw.pid)]), 10_000);
    samples.push([0, rssMb(gw.pid)]);
    const r = await autocannon({ ...load(`http://127.0.0.1:${gwPort}/v1/chat/completions`, { authorization: `Bearer ${key}` }, 1000), duration: SOAK });
    clearInterval(timer);
    samples.push([SOAK, rssMb(gw.pid)]);
    console.log(
      `soak ${SOAK} s at 1,000 req/s offered: achieved ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
    );
    console.log(`gateway RSS (MB) by time (s): ${samples.map(([t, m]) => `${t}:${m.toFixed(0)}`).join(" ")}`);
    // Medians (a garbage collection can lift one sample by 30 MB) and the least-squares slope after
    // the first minute (warm-up): a leak shows as a steady slope, GC as scatter around a flat line.
    const firstMin = samples.filter(([t]) => t >= 60 && t <= 120).map(([, m]) => m);
    const lastMin = samples.filter(([t]) => t >= SOAK - 60).map(([, m]) => m);
    const after = samples.filter(([t]) => t >= 60);
    const mt = after.reduce((a, [t]) => a + t, 0) / after.length;
    const mm = after.reduce((a, [, m]) => a + m, 0) / after.length;
    const slope = after.reduce((a, [t, m]) => a + (t - mt) * (m - mm), 0) / after.reduce((a, [t]) => a + (t - mt) ** 2, 0);
    console.log(
      `median RSS minute 2: ${med(firstMin).toFixed(0)} MB, last minute: ${med(lastMin).toFixed(0)} MB; slope after minute 1: ${(slope * 60).toFixed(2)} MB/min`,
    );
    // RSS rises and falls with the old generation's collections, so a straight-line slope depends on
    // where the run ends: a leak shows in the troughs (RSS just after each collection) and the peaks
    // rising from cycle to cycle.
    const troughs = samples.filter(([, m], i) => i > 0 && i < samples.length - 1 && m < samples[i - 1][1] && m <= samples[i + 1][1]);
    const peaks = samples.filter(([, m], i) => i > 0 && i < samples.length - 1 && m > samples[i - 1][1] && m >= samples[i + 1][1]);
    const fmt = (xs) => xs.map(([t, m]) => `${t}:${m.toFixed(0)}`).join(" ");
    console.log(`troughs (after each old-generation collection): ${fmt(troughs)}; peaks: ${fmt(peaks)}`);
    if (troughs.length >= 2)
      console.log(
        `trough drift: ${(((troughs.at(-1)[1] - troughs[0][1]) / (troughs.at(-1)[0] - troughs[0][0])) * 60).toFixed(2)} MB/min over ${troughs.length} cycles`,
      );
  } else {
    const servers = [
      { name: "direct (floor)", url: `http://127.0.0.1:${stubPort}/v1/chat/completions`, headers: {}, pid: stub.pid },
      { name: REF_EVERY, url: `http://127.0.0.1:${refPort}/v1/chat/completions`, headers: {}, pid: reference.pid },
      { name: REF_TEXTS, url: `http://127.0.0.1:${textsPort}/v1/chat/completions`, headers: {}, pid: referenceTexts.pid },
      { name: "weightbridge gateway", url: `http://127.0.0.1:${gwPort}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, pid: gw.pid },
      ...(baseGw
        ? [
            {
              name: `base gateway (${process.env.BASE_ROOT})`,
              url: `http://127.0.0.1:${baseGw.port}/v1/chat/completions`,
              headers: { authorization: `Bearer ${baseGw.key}` },
              pid: baseGw.proc.pid,
            },
          ]
        : []),
      ...(portkey
        ? [
            {
              name: "portkey gateway 1.15.2",
              url: `http://localhost:${pkPort}/v1/chat/completions`,
              headers: { authorization: "Bearer x", "x-portkey-provider": "openai", "x-portkey-custom-host": `http://127.0.0.1:${stubPort}/v1` },
              pid: portkey.pid,
            },
          ]
        : []),
    ];
    // Warm every server (and autocannon in this process) first: the first rate measured used to come
    // out ~1.5x slower than the same rate measured later, the direct run included (JIT, heap sizing).
    for (const sv of servers) await autocannon({ ...load(sv.url, sv.headers, Math.max(...RATES)), duration: WARMUP });
    console.log(`load average before the rounds: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
    // Rounds, each measuring every server once, in alternating order: this machine's speed drifts by
    // 10-20% over minutes, so a server is compared with the direct run of its own round, and the
    // figures reported are medians over the rounds (every round is printed too).
    for (const rate of RATES) {
      for (let round = 1; round <= ROUNDS; round++) {
        const order = round % 2 ? servers : [...servers].reverse();
        const measured = new Map();
        for (const sv of order) measured.set(sv, await measure(sv, rate));
        const direct = measured.get(servers[0]);
        for (const sv of servers) {
          const r = measured.get(sv);
          rows.push({ ...r, round, addedP50: r.p50 - direct.p50, addedP99: r.p99 - direct.p99 });
        }
      }
    }
    // CPU per request: of the server measured (the stub for the direct run, else the gateway).
    console.log("Every round:\n");
    console.log("| offered | round | run | p50 ms | p99 ms | added p50 | added p99 | achieved req/s | non-2xx | errors | server CPU ms/req |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of rows)
      console.log(
        `| ${r.rate} | ${r.round} | ${r.name} | ${r.p50} | ${r.p99} | ${r.addedP50} | ${r.addedP99} | ${r.achieved.toFixed(0)} | ${r.non2xx} | ${r.errors} | ${r.cpuMsPerRequest.toFixed(3)} |`,
      );
    console.log(`\nMedians over ${ROUNDS} rounds of ${DURATION} s (added: against the direct run of the same round; range in brackets):\n`);
    console.log("| offered | run | p50 ms | p99 ms | added p50 | added p99 | achieved req/s | non-2xx | errors | server CPU ms/req |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const rate of RATES)
      for (const sv of servers) {
        const rs = rows.filter((r) => r.rate === rate && r.name === sv.name);
        const span = (k) => `${med(rs.map((r) => r[k]))} [${Math.min(...rs.map((r) => r[k]))}, ${Math.max(...rs.map((r) => r[k]))}]`;
        console.log(
          `| ${rate} | ${sv.name} | ${med(rs.map((r) => r.p50))} | ${med(rs.map((r) => r.p99))} | ${span("addedP50")} | ${span("addedP99")} | ${med(rs.map((r) => r.achieved)).toFixed(0)} | ${rs.reduce((a, r) => a + r.non2xx, 0)} | ${rs.reduce((a, r) => a + r.errors, 0)} | ${med(rs.map((r) => r.cpuMsPerRequest)).toFixed(3)} |`,
        );
      }
    for (const rate of RATES)
      for (const ref of [REF_EVERY, REF_TEXTS]) {
        const cpu = (name) => med(rows.filter((r) => r.rate === rate && r.name === name).map((r) => r.cpuMsPerRequest));
        const ratios = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const of = (name) => rows.find((r) => r.rate === rate && r.round === round && r.name === name)?.cpuMsPerRequest;
          ratios.push(of("weightbridge gateway") / of(ref));
        }
        console.log(
          `${rate} req/s: gateway CPU per request / ${ref}: ${med(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}, ${Math.max(...ratios).toFixed(2)}] (medians ${cpu("weightbridge gateway").toFixed(3)} / ${cpu(ref).toFixed(3)} ms)`,
        );
      }
    console.log(`load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
    console.log(`gateway RSS after the runs: ${rssMb(gw.pid).toFixed(0)} MB${baseGw ? `; base gateway: ${rssMb(baseGw.proc.pid).toFixed(0)} MB` : ""}`);
  }
} finally {
  for (const p of [gw, stub, reference, referenceTexts, baseGw?.proc, portkey]) p?.kill("SIGTERM");
}
