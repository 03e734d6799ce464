#!/usr/bin/env node
/**
 * Resources under clients that pipeline and do not read (issue 14): 100 connections each send 20,000
 * pipelined requests (a mix of GET /healthz and 4 KB POSTs to /v1/chat/completions without a key) and
 * never read an answer. Measured on `weightbridge gateway` processes: RSS before and after, and how
 * long a fresh client waits for GET /healthz meanwhile (5 probes). With BASE_ROOT, a gateway from
 * another built checkout is measured the same way in the same run, after this one.
 *
 *   node bench/net-pipelining.mjs [--connections 100] [--requests 20000]
 *   BASE_ROOT=/tmp/wb-old node bench/net-pipelining.mjs
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort, gatewayYaml } from "./gateway-fixture.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CONNECTIONS = Number(arg("connections", "100"));
const REQUESTS = Number(arg("requests", "20000"));
const here = fileURLToPath(new URL("..", import.meta.url));

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024;

async function startGateway(root) {
  const dir = mkdtempSync(join(tmpdir(), "wb-pipe-bench-"));
  const port = await freePort();
  writeFileSync(join(dir, "gateway.yaml"), gatewayYaml(1, `127.0.0.1:${port}`)); // upstream never reached: no key is sent
  const bin = join(root, "bin/weightbridge.js");
  execFileSync(process.execPath, [bin, "keys", "create", "-c", join(dir, "gateway.yaml"), "--name", "bench", "--json"]);
  const p = spawn(process.execPath, [bin, "gateway", "-c", join(dir, "gateway.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((resolve, reject) => {
    let out = "";
    const on = (d) => {
      out += d;
      if (/weightbridge gateway on/.test(out)) resolve();
    };
    p.stdout.on("data", on);
    p.stderr.on("data", on);
    p.once("exit", (c) => reject(new Error(`gateway exited ${c}: ${out}`)));
  });
  return { port, proc: p };
}

/** Time for a fresh connection's GET /healthz to be answered (ms), or Infinity after 30 s. */
function probe(port) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, "127.0.0.1", () => s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Number.POSITIVE_INFINITY);
    }, 30_000);
    s.once("data", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(performance.now() - t0);
    });
    s.on("error", () => {});
  });
}

async function measure(label, root) {
  const gw = await startGateway(root);
  await sleep(500);
  const before = rssMb(gw.proc.pid);
  const body = JSON.stringify({ model: "support", messages: [{ role: "user", content: "x".repeat(4000) }] });
  const post = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const flood = Buffer.from(Array.from({ length: REQUESTS }, (_, i) => (i % 10 === 0 ? post : get)).join(""));
  const sockets = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = net.connect(gw.port, "127.0.0.1");
    s.on("error", () => {});
    s.pause();
    s.write(flood);
    sockets.push(s);
  }
  await sleep(3000);
  const probes = [];
  for (let i = 0; i < 5; i++) probes.push(await probe(gw.port));
  const after = rssMb(gw.proc.pid);
  for (const s of sockets) s.destroy();
  gw.proc.kill("SIGTERM");
  probes.sort((a, b) => a - b);
  console.log(
    `| ${label} | ${before.toFixed(0)} MB | ${after.toFixed(0)} MB | ${probes[2].toFixed(0)} ms | ${probes[4] === Number.POSITIVE_INFINITY ? "> 30 s" : `${probes[4].toFixed(0)} ms`} |`,
  );
}

console.log(
  `${CONNECTIONS} connections × ${REQUESTS} pipelined requests (${Math.round((REQUESTS * 0.9 * 35 + REQUESTS * 0.1 * 4150) / 1e6)} MB each), none read\n`,
);
console.log("| gateway | RSS before | RSS after 3 s | /healthz median of 5 | slowest |");
console.log("| --- | --- | --- | --- | --- |");
await measure("this checkout", here);
if (process.env.BASE_ROOT) await measure(`base (${process.env.BASE_ROOT})`, process.env.BASE_ROOT);
