#!/usr/bin/env node
/**
 * The UI on a big store: 1,000 runs and one run of 1,000,000 results (10 models x 100,000 cases),
 * rows written directly with SQL (this is a bench, not a product path). First a server that meets
 * the run for the first time (it counts, builds the Report in a child and the search index, and
 * keeps them: 0009_ui_scale), then a fresh server process: API latency of the runs list, the run
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
import { chromium } from "playwright-core";
import { openStore } from "../dist/store/open.js";

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

async function waitIndexed(url) {
  const t0 = performance.now();
  for (;;) {
    const r = await (await fetch(`${url}/api/v1/runs/big/cases?${SEARCH}`)).json();
    if (r.search?.index === "ready") return (performance.now() - t0) / 1000;
    await new Promise((res) => setTimeout(res, 500));
  }
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

// 1. The first server ever to see the run: it counts, builds the Report (in a child) and indexes for search.
{
  const { p, url } = await serve();
  try {
    const t0 = performance.now();
    await (await fetch(`${url}/api/v1/runs?limit=50`)).arrayBuffer();
    const listS = (performance.now() - t0) / 1000;
    const stop = watchChildren(p.pid);
    const t1 = performance.now();
    await (await fetch(`${url}/api/v1/runs/big`)).arrayBuffer();
    const reportS = (performance.now() - t1) / 1000;
    const childPeak = stop();
    const t2 = performance.now();
    await (await fetch(`${url}/api/v1/runs/big/cases?filter=regressions&model=m9&limit=100&offset=10000`)).arrayBuffer();
    const regrMs = performance.now() - t2;
    const indexS = await waitIndexed(url);
    const r = rss(p.pid);
    console.log(
      `\nfirst server (builds what it keeps): runs list ${listS.toFixed(2)} s, run page ${reportS.toFixed(1)} s (Report built in a child, peak RSS ${childPeak.toFixed(0)} MB), regressions of m9 ${regrMs.toFixed(0)} ms, search index of ${RESULTS.toLocaleString("en")} results built in ${indexS.toFixed(1)} s; server RSS ${r.rss.toFixed(0)} MB, peak ${r.peak.toFixed(0)} MB`,
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
