#!/usr/bin/env node
/**
 * The UI on a big store: 1,000 runs and one run of 1,000,000 results (10 models x 100,000 cases),
 * rows written directly with SQL (this is a bench, not a product path). Measures API latency of the
 * runs list, a run page and deep pages of the case table against `weightbridge ui` running as its
 * own process (RSS read from /proc), Chromium's time to render pages, and — the reference, in the
 * same script — the same deep-page queries forced onto the indexes that existed before 0008_ui_indexes.
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

const fillS = await fill();
console.log(`store: ${RUNS} runs, ${RESULTS.toLocaleString("en")} results in run "big", filled in ${fillS.toFixed(1)} s`);
const { p, url } = await serve();
try {
  const rows = [];
  const add = (name, r) => rows.push([name, r.first, r.median]);
  add("runs list, first page (50)", await time(`${url}/api/v1/runs?limit=50`));
  const page1 = await (await fetch(`${url}/api/v1/runs?limit=${Math.min(500, Math.floor(RUNS / 2))}`)).json();
  add(
    `runs list, page after ${Math.min(500, Math.floor(RUNS / 2))} (keyset)`,
    await time(`${url}/api/v1/runs?limit=50&cursor=${encodeURIComponent(page1.nextCursor)}`),
  );
  add(`run page (Report of ${RESULTS.toLocaleString("en")} results)`, await time(`${url}/api/v1/runs/big`, 3));
  const afterReport = rss(p.pid);
  add("cases, first page (100)", await time(`${url}/api/v1/runs/big/cases?limit=100`));
  add(`cases, last page (offset ${(RESULTS - 100).toLocaleString("en")})`, await time(`${url}/api/v1/runs/big/cases?limit=100&offset=${RESULTS - 100}`));
  add("cases, failed, deep page", await time(`${url}/api/v1/runs/big/cases?filter=failed&limit=100&offset=50000`));
  add("cases, regressions of m9, deep page", await time(`${url}/api/v1/runs/big/cases?filter=regressions&model=m9&limit=100&offset=10000`));
  add(
    `cases, by latency desc, offset ${(RESULTS / 2).toLocaleString("en")}`,
    await time(`${url}/api/v1/runs/big/cases?sort=latency&order=desc&limit=100&offset=${RESULTS / 2}`),
  );
  add("cases, search 'wrong answer 99999'", await time(`${url}/api/v1/runs/big/cases?q=${encodeURIComponent("wrong answer 99999")}&limit=100`, 3));
  console.log("\n| request | first (cold) | median of next |\n|---|---|---|");
  for (const [n, f, m] of rows) console.log(`| ${n} | ${f.toFixed(0)} ms | ${m.toFixed(0)} ms |`);
  const ref = referenceQueries();
  console.log(
    `\nreference (SQLite alone): failed-cases key query at offset ${ref.offset.toLocaleString("en")} of ${ref.failed.toLocaleString("en")}: ${ref.indexed.toFixed(1)} ms with results_ui_passed vs ${ref.reference.toFixed(1)} ms on the primary key only — ratio ${(ref.indexed / ref.reference).toFixed(3)}`,
  );
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const r1 = await render(browser, `${url}/`, "tbody tr");
    const r2 = await render(browser, `${url}/runs/big`, ".chart canvas");
    const r3 = await render(browser, `${url}/runs/big/cases?filter=regressions&model=m9`, ".vrow a");
    console.log(
      `\nChromium, navigation to content visible: runs list ${r1.toFixed(0)} ms, run page ${r2.toFixed(0)} ms, cases (regressions of m9) ${r3.toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
  }
  const end = rss(p.pid);
  console.log(`server RSS: ${afterReport.rss.toFixed(0)} MB after the run page, ${end.rss.toFixed(0)} MB at the end, peak ${end.peak.toFixed(0)} MB`);
} finally {
  p.kill("SIGTERM");
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
