#!/usr/bin/env node
/**
 * Does the gateway leak? RSS over a soak (gateway-latency.mjs --soak) moves with the garbage
 * collector; this looks at the live heap instead. The gateway runs in this process (built dist/), the
 * stub in its own; after each round of load, two full collections, then V8's used heap size. A leak
 * grows it round after round; a flat line after the first round (caches filling) is what is wanted.
 *
 *   npm run build && node --expose-gc bench/gateway-heap.mjs [--rounds 6] [--rate 600]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import autocannon from "autocannon";
import { body, freePort, gatewayYaml, uniqueTickets } from "./gateway-fixture.mjs";

if (typeof global.gc !== "function") {
  console.error("run with node --expose-gc bench/gateway-heap.mjs");
  process.exit(2);
}
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROUNDS = Number(arg("rounds", "6"));
const RATE = Number(arg("rate", "600"));
const root = fileURLToPath(new URL("..", import.meta.url));
const { startGateway } = await import(join(root, "dist/gateway/server.js"));
const { loadGatewayConfig } = await import(join(root, "dist/gateway/config.js"));
const { openStore } = await import(join(root, "dist/store/open.js"));

const stubPort = await freePort();
const stub = spawn(process.execPath, [join(root, "bench/stub.mjs"), String(stubPort), "0"], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((resolve) => stub.stdout.once("data", resolve));
const dir = mkdtempSync(join(tmpdir(), "wb-gw-heap-"));
const file = join(dir, "gateway.yaml");
writeFileSync(file, gatewayYaml(stubPort));
const key = JSON.parse(
  execFileSync(process.execPath, [join(root, "bin/weightbridge.js"), "keys", "create", "-c", file, "--name", "heap", "--json"]).toString(),
).key;
const store = await openStore(join(dir, ".weightbridge", "weightbridge.db"));
const gw = await startGateway({ config: loadGatewayConfig(file), store, host: "127.0.0.1", port: 0 });

const tickets = uniqueTickets();
const { requests } = tickets;
const liveMb = () => {
  global.gc();
  global.gc();
  return v8.getHeapStatistics().used_heap_size / 1e6;
};
const heap = [liveMb()];
try {
  for (let i = 0; i < ROUNDS; i++) {
    await autocannon({
      url: `${gw.url}/v1/chat/completions`,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body,
      requests,
      connections: 32,
      overallRate: RATE,
      duration: 10,
    });
    heap.push(liveMb());
    console.log(`after ${tickets.state.sent} requests: live heap ${heap.at(-1).toFixed(1)} MB`);
  }
  const growth = heap.at(-1) - heap[1];
  console.log(
    `live heap (MB) after each round: ${heap.map((m) => m.toFixed(1)).join(" ")}; from round 1 to ${ROUNDS}: ${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB over ${tickets.state.sent} requests`,
  );
} finally {
  await gw.close();
  await store.close();
  stub.kill();
}
