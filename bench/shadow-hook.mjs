#!/usr/bin/env node
/**
 * The event-loop time shadow mode adds to a mirrored request's primary path, in-process, against the
 * detection work every primary request already does on the same request and answer (inspectBody +
 * scanWholeAnswer: the reference). What is timed is exactly what runs on the gateway's event loop:
 * `answered()` (sampling, the primary half with every value replaced, the run lookup, the policy per
 * shadow target, the jobs) and `after()` posting the jobs to the shadow thread (the real one: its
 * work — sending to an upstream that refuses the connection, storing the failed halves — runs on
 * that thread and is not timed); the rows go to a real SQLite file through the gateway's writer thread.
 *
 *   node bench/shadow-hook.mjs [--n 20000] [--rounds 5]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDetectors, detectAcross } from "../dist/detect/index.js";
import { scanWholeAnswer } from "../dist/gateway/answer-scan.js";
import { createAuditLog } from "../dist/gateway/audit-log.js";
import { loadGatewayConfig } from "../dist/gateway/config.js";
import { inspectBody, sentValuesOf } from "../dist/gateway/inspect.js";
import { createMetrics } from "../dist/gateway/metrics.js";
import { startShadowThread } from "../dist/gateway/shadow/remote.js";
import { createTraffic } from "../dist/gateway/shadow/traffic.js";
import { quantile } from "../dist/stats/quantile.js";
import { openStore } from "../dist/store/index.js";
import { body, gatewayYaml } from "./gateway-fixture.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("n", 20000);
const ROUNDS = arg("rounds", 5);
const med = (xs) => quantile(xs, 0.5);

const dir = mkdtempSync(join(tmpdir(), "wb-shadow-hook-"));
writeFileSync(
  join(dir, "gateway.yaml"),
  gatewayYaml(1, "127.0.0.1:0")
    .replace("routes:", "  - { id: candidate, baseUrl: http://127.0.0.1:2/v1, model: open, accepts: [EMAIL] }\nroutes:")
    .replace("onSensitive: reroute\n", "onSensitive: reroute\n    shadow: { targets: [candidate], sample: 1, maxQueue: 1000000 }\n"),
);
const config = loadGatewayConfig(join(dir, "gateway.yaml"));
const store = await openStore(join(dir, "wb.db"));
const audit = createAuditLog(store, createMetrics());
const detectors = buildDetectors({});
let jobs = 0;
const thread = startShadowThread({ config, storeUrl: store.url });
const executor = {
  run: (job, onStart) => {
    jobs++;
    thread.run(job, onStart);
  },
  close: (ms) => thread.close(ms),
};
const traffic = createTraffic({ config, detectors, audit, store, configPath: "gateway.yaml", executor });
const route = config.routes[0];
const deployment = config.deployments[1];
const answer = JSON.stringify({
  id: "b",
  object: "chat.completion",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Your parcel left our warehouse on Wednesday; I have asked the courier for an update and will write to you by tomorrow.",
      },
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 120, completion_tokens: 30 },
});
const request = (i) => JSON.parse(body.replace("58213-77", `58213-${i}`));

async function reference(i) {
  const b = request(i);
  const ins = await inspectBody(b, detectors, detectAcross);
  await scanWholeAnswer(answer, { contentType: "application/json" }, { detectors, window: 128, redact: true, sent: sentValuesOf(ins) });
}
async function hook(ins, b) {
  const kept = await traffic.answered({
    route,
    kind: "chat",
    body: b,
    ins,
    deployment,
    text: answer,
    usage: { prompt_tokens: 120, completion_tokens: 30 },
    costPusd: 1,
    latencyMs: 1,
  });
  const commit = audit.statements(kept.statements);
  kept.after();
  return [commit]; // wrapped, so awaiting the hook does not wait for the commit (the writer's thread does that)
}

// The writer's thread is unref'd (a gateway's server keeps the process alive); so is nothing here.
const keepAlive = setInterval(() => {}, 1000);
const rows = [];
let seq = 0;
for (let round = 0; round <= ROUNDS; round++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) await reference(seq++);
  const refUs = ((performance.now() - t) * 1000) / N;
  // The hook's inputs are prepared outside the timing (the pipeline has them already).
  const inputs = [];
  for (let i = 0; i < N; i++) {
    const b = request(seq++);
    inputs.push([b, await inspectBody(b, detectors, detectAcross)]);
  }
  const commits = [];
  t = performance.now();
  for (let i = 0; i < N; i++) commits.push(...(await hook(inputs[i][1], inputs[i][0])));
  const hookUs = ((performance.now() - t) * 1000) / N;
  await Promise.all(commits);
  if (round > 0) rows.push({ refUs, hookUs }); // round 0 warms up
  console.log(
    `round ${round}${round === 0 ? " (warm-up)" : ""}: reference ${refUs.toFixed(1)} µs/request, shadow hook ${hookUs.toFixed(1)} µs/request, ratio ${(hookUs / refUs).toFixed(3)}`,
  );
}
const ratios = rows.map((r) => r.hookUs / r.refUs);
console.log(
  `\nmedian of ${ROUNDS} rounds of ${N}: reference (inspect + answer scan) ${med(rows.map((r) => r.refUs)).toFixed(1)} µs, shadow hook ${med(rows.map((r) => r.hookUs)).toFixed(1)} µs per mirrored request; hook / reference ${med(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}]; ${jobs} jobs handed over`,
);
const hookUs = med(rows.map((r) => r.hookUs));
console.log(
  `event-loop time added at 500 mirrored req/s: ${((hookUs * 500) / 1000).toFixed(1)} ms per second (${((hookUs * 500) / 1e4).toFixed(2)}% of one core)`,
);
await traffic.close(); // waits up to 10 s for the thread's queue, then drops the rest
await audit.close();
await store.close();
clearInterval(keepAlive);
