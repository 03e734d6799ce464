#!/usr/bin/env node
/**
 * The UI on a big store: 1,000 runs and one run of 1,000,000 results (10 models x 100,000 cases),
 * rows written directly with SQL (this is a bench, not a product path), then left the way `eval`
 * and `redteam` leave their runs: through keepRunForUi (src/ui/server/keep.ts), the function they
 * call at completion, with the rows and summary eval holds — timed: what eval's completion adds.
 * Then: a first server over that store (runs list, run page, a filtered total, and the search
 * index built in the worker thread while a cases page is polled); the legacy first visit (the
 * big run's kept rows removed, as in a store from before: the run page answers "building" and the
 * Report is built in a child); and a fresh server process: API latency of the runs list, the run
 * page, deep pages and searches of the case table (RSS read from /proc), Chromium's time to render
 * pages, and — the references, in the same script — the deep-page query forced onto the indexes
 * that existed before 0008_ui_indexes, and a search through results_fts vs the substring scan.
 *
 *   npm run build && node bench/ui.mjs            # RESULTS=1000000 RUNS=1000 by default
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { openStore } from "../dist/store/open.js";

/** keepRunForUi and what eval holds when it calls it, bundled from the sources (dist/ui holds only the web app). */
async function keepModule() {
  const outfile = join(import.meta.dirname, ".out", "ui-keep.mjs");
  await build({
    stdin: {
      contents:
        'export { keepRunForUi } from "./src/ui/server/keep.ts"; export { summarise } from "./src/evaluate/index.ts"; export { loadResults, openStore } from "./src/store/index.ts";',
      resolveDir: join(import.meta.dirname, ".."),
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    external: [
      "better-sqlite3",
      "pg",
      "node-llama-cpp",
      "@huggingface/hub",
      "@huggingface/gguf",
      "fastify",
      "cli-progress",
      "@cyclonedx/cyclonedx-library",
      "@foxglove/wasm-bz2",
    ],
    banner: { js: 'import { createRequire as __wbCreateRequire } from "node:module"; const require = __wbCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
  return import(outfile);
}

/**
 * Leave every run as its command would at completion: eval runs with their rows and summary (the
 * big one timed), red-team runs with nothing (their listing is counted from the store).
 */
async function keepAsEvalDoes() {
  const k = await keepModule();
  const store = await k.openStore(file);
  try {
    const runs = store.sqlite.prepare("select id, kind, plan_json from runs order by created_at").all();
    let smallMs = 0;
    let big;
    for (const r of runs) {
      const plan = JSON.parse(r.plan_json);
      if (r.kind === "redteam") {
        const t0 = performance.now();
        await k.keepRunForUi(store, r.id);
        smallMs += performance.now() - t0;
        continue;
      }
      // What eval holds at the end (not timed: eval has it anyway): every result (the big run's
      // without texts: 1,000,000 with texts would not fit this bench's heap) and the summary it prints.
      const t0 = performance.now();
      const rows = await k.loadResults(store.db, r.id, { withTexts: r.id !== "big" });
      const summary = k.summarise(plan, r.id, rows);
      const heldMs = performance.now() - t0;
      const t1 = performance.now();
      const kept = await k.keepRunForUi(store, r.id, { rows, summary });
      const ms = performance.now() - t1;
      if (!kept.summary || !kept.report) throw new Error(`run ${r.id} was not kept: ${JSON.stringify(kept)}`);
      if (r.id === "big") big = { ms, heldMs, rows: rows.length };
      else smallMs += ms;
    }
    return { big, smallMs, small: runs.length - 1 };
  } finally {
    await store.close();
  }
}

const RESULTS = Number(process.env.RESULTS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 1000);
const MODELS = 10;
const CASES = Math.ceil(RESULTS / MODELS);
const dir = mkdtempSync(join(tmpdir(), "wb-ui-bench-"));
const file = join(dir, "big.sqlite");

function plan(models, cases) {
  return {
    version: 1,
    suites: [
      {
        name: "s",
        file: "s.yaml",
        params: {},
        cases: Array.from({ length: cases }, (_, i) => ({
          index: i,
          id: `s#${i + 1}`,
          messages: [{ role: "user", content: `question ${i}` }],
          expects: [{ type: "equals", value: "a" }],
          vars: {},
        })),
      },
    ],
    models: Array.from({ length: models }, (_, m) => ({
      config: { id: `m${m}`, provider: "openai-compatible", model: `m${m}` },
      price: { input: 1 + m, output: 2 + m, source: "bench" },
    })),
    helpers: [],
    baseline: "m0",
    repeat: 1,
    defaults: { params: {} },
  };
}

async function fill() {
  const t0 = performance.now();
  const store = await openStore(file); // creates the schema and every migration, 0008 included
  await store.close();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const run = db.prepare("insert into runs values (?, ?, ?, ?, 'completed', 'bench.yaml', ?, null, null)");
  const res = db.prepare(
    "insert into results (run_id, suite, case_index, model_id, repeat, case_id, messages_json, output, scores_json, score, passed, input_tokens, output_tokens, cost_pusd, latency_ms, ttft_ms, error, cached, attempts, created_at) values (?, 's', ?, ?, 0, ?, ?, ?, ?, ?, ?, 20, 5, ?, ?, ?, ?, 0, 1, ?)",
  );
  const small = JSON.stringify(plan(2, 10));
  const base = Date.parse("2026-01-01T00:00:00Z");
  db.transaction(() => {
    for (let r = 0; r < RUNS - 1; r++) {
      const at = new Date(base + r * 60_000).toISOString();
      const id = `small-${String(r).padStart(4, "0")}`;
      run.run(id, r % 3 === 0 ? "redteam" : "eval", at, at, small);
      for (let m = 0; m < 2; m++)
        for (let c = 0; c < 10; c++)
          res.run(
            id,
            c,
            `m${m}`,
            `s#${c + 1}`,
            `[{"role":"user","content":"question ${c}"}]`,
            "a",
            '[{"type":"equals","score":1,"pass":true}]',
            1,
            1,
            1000,
            10,
            5,
            null,
            at,
          );
    }
  })();
  const at = new Date(base + RUNS * 60_000).toISOString();
  run.run("big", "eval", at, at, JSON.stringify(plan(MODELS, CASES)));
  let seed = 1;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const insert = db.transaction((from, to) => {
    for (let c = from; c < to; c++)
      for (let m = 0; m < MODELS; m++) {
        const pass = rnd() < 0.9 - m * 0.03 ? 1 : 0;
        const err = rnd() < 0.001 ? "timeout" : null;
        const lat = 50 + rnd() * 400;
        res.run(
          "big",
          c,
          `m${m}`,
          `s#${c + 1}`,
          `[{"role":"user","content":"question ${c}"}]`,
          pass ? "a" : `wrong answer ${c}`,
          `[{"type":"equals","score":${pass},"pass":${pass === 1}}]`,
          pass,
          pass,
          1000 * (m + 1),
          lat,
          lat / 3,
          err,
          at,
        );
      }
  });
  for (let c = 0; c < CASES; c += 10_000) insert(c, Math.min(CASES, c + 10_000));
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.exec("analyze");
  db.close();
  return (performance.now() - t0) / 1000;
}

function serve() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["bin/weightbridge.js", "ui", "--port", "0"], {
      env: { ...process.env, CI: "true", WEIGHTBRIDGE_DATABASE_URL: file },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      const m = /weightbridge ui: (\S+)/.exec(out);
      if (m) resolve({ p, url: m[1].replace(/\/$/, "") });
    });
    p.on("exit", (c) => reject(new Error(`ui exited ${c}`)));
  });
}

const rss = (pid) => {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const mb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: mb("VmRSS"), peak: mb("VmHWM") };
};

async function time(url, n = 5) {
  const t = [];
  let first;
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    const ms = performance.now() - t0;
    if (i === 0) first = ms;
    else t.push(ms);
  }
  t.sort((a, b) => a - b);
  return { first, median: t[Math.floor(t.length / 2)] };
}

/** The deep-page key query of the cases API, with the index 0008 added and forced onto the primary key (the reference). */
function referenceQueries() {
  const db = new Database(file, { readonly: true });
  const q = (indexed) =>
    `select r.suite, r.case_index, r.model_id, r.repeat from results as r ${indexed} where r.run_id = 'big' and r.passed = 0 order by r.suite, r.case_index, r.model_id, r.repeat limit 101 offset ?`;
  const withIx = db.prepare(q("indexed by results_ui_passed"));
  const without = db.prepare(q("indexed by sqlite_autoindex_results_1"));
  const failed = db.prepare("select count(*) n from results where run_id = 'big' and passed = 0").get().n;
  const offset = Math.max(0, failed - 200);
  const t = (st) => {
    const xs = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      st.all(offset);
      xs.push(performance.now() - t0);
    }
    return xs.sort((a, b) => a - b)[2];
  };
  const r = { failed, offset, indexed: t(withIx), reference: t(without) };
  db.close();
  return r;
}

async function render(browser, url, selector) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const t0 = performance.now();
  await page.goto(url);
  await page.locator(selector).first().waitFor({ timeout: 60_000 });
  const ms = performance.now() - t0;
  await page.close();
  return ms;
}

/** Peak RSS (MB) of the server's child processes (the big run's Report is built in one), sampled every 100 ms. */
function watchChildren(pid) {
  let peak = 0;
  const t = setInterval(() => {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) peak = Math.max(peak, rss(Number(c)).peak);
    } catch {}
  }, 100);
  return () => {
    clearInterval(t);
    return peak;
  };
}

/** Start the search index of the big run and poll a cases page until it is ready: build time and the page's latencies meanwhile. */
async function whileIndexed(url) {
  // The polled page's first answer counts its total (once, then kept): not what the build costs it.
  await (await fetch(`${url}/api/v1/runs/big/cases?filter=failed&limit=100&offset=50000`)).arrayBuffer();
  const t0 = performance.now();
  const polls = [];
  let ready = false;
  let i = 0;
  while (!ready) {
    if (i++ % 4 === 0) ready = (await (await fetch(`${url}/api/v1/runs/big/cases?${SEARCH}`)).json()).search?.index === "ready";
    const t = performance.now();
    const r = await fetch(`${url}/api/v1/runs/big/cases?filter=failed&limit=100&offset=50000`);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`cases page: ${r.status}`);
    polls.push(performance.now() - t);
    await new Promise((res) => setTimeout(res, 250));
  }
  polls.sort((a, b) => a - b);
  const at = (q) => polls[Math.min(polls.length - 1, Math.floor(q * polls.length))];
  return { s: (performance.now() - t0) / 1000, polls, median: at(0.5), p95: at(0.95), max: polls.at(-1) };
}

/** A term with a few hits: the output of a failed answer to the last case. */
const TERM = `wrong answer ${CASES - 1}`;
const TERM2 = `wrong answer ${Math.floor(CASES / 8)}`;
const SEARCH = `q=${encodeURIComponent(TERM)}&limit=100`;

/** The requests of the table, each timed cold (first) and as the median of the next ones. */
async function measure(url) {
  const rows = [];
  const add = (name, r) => rows.push([name, r.first, r.median]);
  add("runs list, first page (50)", await time(`${url}/api/v1/runs?limit=50`));
  const page1 = await (await fetch(`${url}/api/v1/runs?limit=${Math.min(500, Math.floor(RUNS / 2))}`)).json();
  add(
    `runs list, page after ${Math.min(500, Math.floor(RUNS / 2))} (keyset)`,
    await time(`${url}/api/v1/runs?limit=50&cursor=${encodeURIComponent(page1.nextCursor)}`),
  );
  add(`run page (Report of ${RESULTS.toLocaleString("en")} results)`, await time(`${url}/api/v1/runs/big`, 3));
  add("cases, first page (100)", await time(`${url}/api/v1/runs/big/cases?limit=100`));
  add(`cases, last page (offset ${(RESULTS - 100).toLocaleString("en")})`, await time(`${url}/api/v1/runs/big/cases?limit=100&offset=${RESULTS - 100}`));
  add("cases, failed, deep page", await time(`${url}/api/v1/runs/big/cases?filter=failed&limit=100&offset=50000`));
  add("cases, regressions of m9, deep page", await time(`${url}/api/v1/runs/big/cases?filter=regressions&model=m9&limit=100&offset=10000`));
  add(
    `cases, by latency desc, offset ${(RESULTS / 2).toLocaleString("en")}`,
    await time(`${url}/api/v1/runs/big/cases?sort=latency&order=desc&limit=100&offset=${RESULTS / 2}`),
  );
  add(`cases, search '${TERM}'`, await time(`${url}/api/v1/runs/big/cases?${SEARCH}`, 3));
  add(`cases, search '${TERM2}' (another term)`, await time(`${url}/api/v1/runs/big/cases?q=${encodeURIComponent(TERM2)}&limit=100`, 3));
  add("cases, search 'answer' (common: scans)", await time(`${url}/api/v1/runs/big/cases?q=answer&limit=100`, 3));
  return rows;
}

const printRows = (title, rows) => {
  console.log(`\n${title}\n| request | first (cold) | median of next |\n|---|---|---|`);
  for (const [n, f, m] of rows) console.log(`| ${n} | ${f.toFixed(0)} ms | ${m.toFixed(0)} ms |`);
};

/** Reference for search, SQLite alone: the same term through the trigram index vs the substring scan the API used before. */
function searchReference() {
  const db = new Database(file, { readonly: true });
  const like = db.prepare(
    "select rowid from results where run_id = 'big' and (output like ? escape '\\' or messages_json like ? escape '\\' or case_id like ? escape '\\') limit 101",
  );
  const fts = db.prepare(
    "select r.rowid from results_fts as f cross join results as r on r.rowid = f.rowid where results_fts match ? and r.run_id = 'big' limit 5001",
  );
  const med = (f) => {
    const xs = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      f();
      xs.push(performance.now() - t0);
    }
    return xs.sort((a, b) => a - b)[2];
  };
  const p = `%${TERM}%`;
  const r = { index: med(() => fts.all(`"${TERM}"`)), scan: med(() => like.all(p, p, p)) };
  db.close();
  return r;
}

const fillS = await fill();
console.log(`store: ${RUNS} runs, ${RESULTS.toLocaleString("en")} results in run "big", filled in ${fillS.toFixed(1)} s`);
const kept = await keepAsEvalDoes();
console.log(
  `\nwhat eval's completion adds (keepRunForUi: the Report from the rows and summary eval holds, serialised, and two rows written): ${kept.big.ms.toFixed(0)} ms for the run of ${kept.big.rows.toLocaleString("en")} results (eval's own summary of it, which it computes anyway: ${(kept.big.heldMs / 1000).toFixed(1)} s to read and summarise here); ${(kept.smallMs / kept.small).toFixed(1)} ms per small run (${kept.small} runs)`,
);

// 1. The first server over the store as eval left it: nothing to build but filtered totals and the search index.
{
  const { p, url } = await serve();
  try {
    const t0 = performance.now();
    await (await fetch(`${url}/api/v1/runs?limit=50`)).arrayBuffer();
    const listMs = performance.now() - t0;
    const t1 = performance.now();
    const page = await (await fetch(`${url}/api/v1/runs/big`)).json();
    const reportMs = performance.now() - t1;
    if (!page.report) throw new Error("the run page did not answer with the kept Report");
    const t2 = performance.now();
    await (await fetch(`${url}/api/v1/runs/big/cases?filter=regressions&model=m9&limit=100&offset=10000`)).arrayBuffer();
    const regrMs = performance.now() - t2;
    const idx = await whileIndexed(url);
    const r = rss(p.pid);
    console.log(
      `\nfirst server over the store as eval left it: runs list ${listMs.toFixed(0)} ms, run page ${reportMs.toFixed(0)} ms (the kept Report), regressions of m9 ${regrMs.toFixed(0)} ms (its total kept by eval); search index of ${RESULTS.toLocaleString("en")} results built in the worker thread in ${idx.s.toFixed(1)} s, meanwhile ${idx.polls.length} requests of a cases page (failed, offset 50,000): median ${idx.median.toFixed(0)} ms, p95 ${idx.p95.toFixed(0)} ms, max ${idx.max.toFixed(0)} ms; server RSS ${r.rss.toFixed(0)} MB, peak ${r.peak.toFixed(0)} MB`,
    );
  } finally {
    p.kill("SIGTERM");
    await new Promise((res) => p.once("exit", res));
  }
}

// 1b. The legacy first visit: the big run's kept Report and listing removed (a store written before eval kept them).
{
  const db = new Database(file);
  db.prepare("delete from run_reports where run_id = 'big'").run();
  db.prepare("delete from run_summaries where run_id = 'big'").run();
  db.close();
  const { p, url } = await serve();
  try {
    const t0 = performance.now();
    await (await fetch(`${url}/api/v1/runs?limit=50`)).arrayBuffer();
    const listMs = performance.now() - t0;
    const stop = watchChildren(p.pid);
    const t1 = performance.now();
    const first = await (await fetch(`${url}/api/v1/runs/big`)).json();
    const firstMs = performance.now() - t1;
    if (first.report || !first.reportBuilding) throw new Error("the legacy first visit did not answer 'building'");
    const polls = [];
    let ready;
    while (!ready) {
      await new Promise((res) => setTimeout(res, 1000));
      const t = performance.now();
      const b = await (await fetch(`${url}/api/v1/runs/big`)).json();
      polls.push(performance.now() - t);
      if (b.report) ready = (performance.now() - t1) / 1000;
    }
    const childPeak = stop();
    const r = rss(p.pid);
    polls.sort((a, b) => a - b);
    console.log(
      `legacy first visit (no kept Report; a store from before): runs list ${listMs.toFixed(0)} ms (counts the run, parses its plan), run page answered "building" in ${firstMs.toFixed(0)} ms, Report ready after ${ready.toFixed(1)} s (built in a child, peak RSS ${childPeak.toFixed(0)} MB), the page's polls meanwhile: max ${polls.at(-1).toFixed(0)} ms; server RSS ${r.rss.toFixed(0)} MB, peak ${r.peak.toFixed(0)} MB`,
    );
  } finally {
    p.kill("SIGTERM");
    await new Promise((res) => p.once("exit", res));
  }
}

// 2. A fresh server process over the same store: every figure below is what a user meets on a restart.
const { p, url } = await serve();
try {
  printRows("fresh server (the kept Report, counts, totals and search index are read, not rebuilt):", await measure(url));
  const afterApi = rss(p.pid);
  const ref = referenceQueries();
  console.log(
    `\nreference (SQLite alone): failed-cases key query at offset ${ref.offset.toLocaleString("en")} of ${ref.failed.toLocaleString("en")}: ${ref.indexed.toFixed(1)} ms with results_ui_passed vs ${ref.reference.toFixed(1)} ms on the primary key only — ratio ${(ref.indexed / ref.reference).toFixed(3)}`,
  );
  const sr = searchReference();
  console.log(
    `reference (SQLite alone): search '${TERM}' through results_fts ${sr.index.toFixed(1)} ms vs the substring scan ${sr.scan.toFixed(1)} ms — ratio ${(sr.index / sr.scan).toFixed(3)}`,
  );
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const r1 = await render(browser, `${url}/`, "tbody tr");
    const r2 = await render(browser, `${url}/runs/big`, ".chart canvas");
    const r3 = await render(browser, `${url}/runs/big/cases?filter=regressions&model=m9`, ".vrow a");
    const r4 = await render(browser, `${url}/runs/big/cases?${SEARCH}`, ".vrow a");
    console.log(
      `\nChromium, navigation to content visible: runs list ${r1.toFixed(0)} ms, run page ${r2.toFixed(0)} ms, cases (regressions of m9) ${r3.toFixed(0)} ms, search ${r4.toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
  }
  const end = rss(p.pid);
  console.log(`fresh server RSS: ${afterApi.rss.toFixed(0)} MB after the API requests, ${end.rss.toFixed(0)} MB at the end, peak ${end.peak.toFixed(0)} MB`);
} finally {
  p.kill("SIGTERM");
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
