#!/usr/bin/env node
/**
 * The calibration tables of docs/statistics.md, larger than CI can afford (`npm run build` first):
 *   node bench/calibration.mjs [exact|continuous|sequential|e2e|all] [--suites 500]
 * - exact: pass/fail coverage of the difference (Newcombe 10) and ratio (MOVER) intervals and the
 *   exact McNemar false-positive rate, computed exactly (all 2×2 tables, skipped mass < 1e-9) over
 *   n × baseline accuracy × φ × candidate (= baseline, baseline − 0.05).
 * - continuous: BCa paired intervals of continuous scores, 2,000 simulated evaluations per n (±0.49 points SE).
 * - sequential: --until-decided's looks, 4,000 streams per cell: coverage at the stopping look, cases used.
 * - e2e: N suites × 30 cases through the real CLI (`eval --json`) against two simulators of known
 *   accuracy (0.9 and 0.85, independent): coverage of what users see vs the exact figure.
 * Prints markdown tables.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { cellsFor, exactPairedCoverage } = await import(join(root, "dist/stats/exact-coverage.js"));
const { comparePaired, moverRatioCi, newcombeDiffCi, seededRng } = await import(join(root, "dist/stats/index.js"));
const { lookSchedule, spendAlpha, zForAlpha } = await import(join(root, "dist/evaluate/sequential.js"));

const what = process.argv[2] ?? "all";
const suitesArg = process.argv.indexOf("--suites");
const SUITES = suitesArg > 0 ? Number(process.argv[suitesArg + 1]) : 500;
const pct = (x) => (x * 100).toFixed(1);

function cellFor(pCand, pBase, phi0) {
  let phi = phi0;
  let cells = cellsFor(pCand, pBase, phi);
  while (!cells) {
    phi *= 0.9;
    cells = cellsFor(pCand, pBase, phi);
  }
  return { cells, phi };
}

function exact() {
  console.log("| n | base | cand | φ | expected discordant | diff coverage | ratio coverage | McNemar rejects | mean diff width |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  const all = [];
  for (const n of [10, 20, 30, 50, 100, 200, 500])
    for (const pBase of [0.5, 0.7, 0.9, 0.97])
      for (const delta of [0, 0.05])
        for (const phi0 of [0.1, 0.7]) {
          const { cells, phi } = cellFor(pBase - delta, pBase, phi0);
          const e = exactPairedCoverage(n, cells, 1e-11);
          const disc = n * (cells[1] + cells[2]);
          all.push({ disc, e });
          console.log(
            `| ${n} | ${pBase} | ${(pBase - delta).toFixed(2)} | ${phi.toFixed(2)} | ${disc.toFixed(1)} | ${pct(e.diffCoverage)}% | ${pct(e.ratioCoverage)}% | ${pct(e.rejectRate)}%${delta === 0 ? " (null)" : ""} | ${e.meanDiffWidth.toFixed(3)} |`,
          );
        }
  const inf = all.filter((x) => x.disc >= 4);
  const m = (f, xs) => xs.reduce((a, x) => a + f(x), 0) / xs.length;
  console.log(
    `\nAll ${all.length} cells: min diff ${pct(Math.min(...all.map((x) => x.e.diffCoverage)))}%, min ratio ${pct(Math.min(...all.map((x) => x.e.ratioCoverage)))}%, mean diff ${pct(m((x) => x.e.diffCoverage, all))}%, mean ratio ${pct(m((x) => x.e.ratioCoverage, all))}%`,
  );
  console.log(
    `${inf.length} cells with ≥ 4 expected discordant cases: max diff ${pct(Math.max(...inf.map((x) => x.e.diffCoverage)))}%, max ratio ${pct(Math.max(...inf.map((x) => x.e.ratioCoverage)))}%, mean diff ${pct(m((x) => x.e.diffCoverage, inf))}%, mean ratio ${pct(m((x) => x.e.ratioCoverage, inf))}%`,
  );
}

function continuous() {
  const pair = (rng) => {
    const d = rng();
    const clip = (x) => Math.min(1, Math.max(0, x));
    return [clip(0.65 - 0.4 * d + (rng() - 0.5) * 0.3), clip(0.7 - 0.4 * d + (rng() - 0.5) * 0.3)];
  };
  const rng0 = seededRng(1);
  let sc = 0;
  let sb = 0;
  for (let i = 0; i < 2e6; i++) {
    const [c, b] = pair(rng0);
    sc += c;
    sb += b;
  }
  const truth = { diff: (sc - sb) / 2e6, ratio: sc / sb };
  console.log("| n | diff coverage (BCa, expanded) | ratio coverage | simulations |");
  console.log("|---|---|---|---|");
  for (const n of [10, 20, 30, 50, 100]) {
    const rng = seededRng(100 + n);
    let cd = 0;
    let cr = 0;
    const SIMS = 2000;
    for (let s = 0; s < SIMS; s++) {
      const cand = [];
      const base = [];
      for (let i = 0; i < n; i++) {
        const [c, b] = pair(rng);
        cand.push(c);
        base.push(b);
      }
      const r = comparePaired(cand, base, { resamples: 1000, permutations: 200 });
      if (r.ci95[0] <= truth.diff && truth.diff <= r.ci95[1]) cd++;
      if (r.qualityRatioCi95 && r.qualityRatioCi95[0] <= truth.ratio && truth.ratio <= r.qualityRatioCi95[1]) cr++;
    }
    console.log(`| ${n} | ${pct(cd / SIMS)}% | ${pct(cr / SIMS)}% | ${SIMS} |`);
  }
}

function sequential() {
  console.log("| max cases | base | cand | φ | diff coverage at stop | ratio coverage at stop | adopted | rejected | mean cases used |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const max of [50, 200, 500])
    for (const [pBase, pCand] of [
      [0.7, 0.7],
      [0.7, 0.63],
      [0.9, 0.9],
      [0.9, 0.81],
      [0.9, 0.6],
    ])
      for (const phi0 of [0.1, 0.7]) {
        const { cells, phi } = cellFor(pCand, pBase, phi0);
        const sched = lookSchedule(max);
        const alphas = spendAlpha(sched);
        const rng = seededRng(max + pBase * 1000 + pCand * 100 + phi0 * 10);
        const SIMS = 4000;
        let cd = 0,
          cr = 0,
          ad = 0,
          rj = 0,
          used = 0;
        for (let s = 0; s < SIMS; s++) {
          const t = { both: 0, candOnly: 0, baseOnly: 0, neither: 0 };
          let drawn = 0;
          for (let j = 0; j < sched.length; j++) {
            for (; drawn < sched[j]; drawn++) {
              const u = rng();
              if (u < cells[0]) t.both++;
              else if (u < cells[0] + cells[1]) t.candOnly++;
              else if (u < 1 - cells[3]) t.baseOnly++;
              else t.neither++;
            }
            const z = zForAlpha(alphas[j]);
            const ratio = moverRatioCi(t, z);
            const settled = ratio && (ratio[0] >= 0.9 || ratio[1] < 0.9);
            if (settled || j === sched.length - 1) {
              const diff = newcombeDiffCi(t, z);
              const td = pCand - pBase;
              const tr = pCand / pBase;
              if (diff[0] <= td + 1e-12 && td - 1e-12 <= diff[1]) cd++;
              if (ratio && ratio[0] <= tr * (1 + 1e-12) && tr * (1 - 1e-12) <= ratio[1]) cr++;
              if (ratio && ratio[0] >= 0.9) ad++;
              if (ratio && ratio[1] < 0.9) rj++;
              used += drawn;
              break;
            }
          }
        }
        console.log(
          `| ${max} | ${pBase} | ${pCand} | ${phi.toFixed(2)} | ${pct(cd / SIMS)}% | ${pct(cr / SIMS)}% | ${pct(ad / SIMS)}% | ${pct(rj / SIMS)}% | ${(used / SIMS).toFixed(0)} (${pct(used / SIMS / max)}%) |`,
        );
      }
}

async function e2e() {
  const { startSimulator, scriptFromSuites } = await import(join(root, "dist/simulate/index.js"));
  const { loadProject } = await import(join(root, "dist/config/project.js"));
  const dir = mkdtempSync(join(tmpdir(), "wb-calib-"));
  const files = [];
  for (let s = 0; s < SUITES; s++) {
    const lines = [`name: s${s}`, 'system: "Answer with one label: alpha, beta or gamma."', 'prompt: "Suite {{s}} case {{i}}"', "cases:"];
    for (let i = 0; i < 30; i++) lines.push(`  - vars: { s: ${s}, i: ${i} }`, `    expect: { type: label, value: ${["alpha", "beta", "gamma"][i % 3]} }`);
    writeFileSync(join(dir, `s${s}.yaml`), `${lines.join("\n")}\n`);
    files.push(`s${s}.yaml`);
  }
  const config = (a, b) => `models:
  - { id: alpha, provider: openai-compatible, baseUrl: ${a}, model: a, price: { input: 2.5, output: 10 }, concurrency: 32 }
  - { id: beta, provider: openai-compatible, baseUrl: ${b}, model: b, price: { input: 0.1, output: 0.4 }, concurrency: 32 }
baseline: alpha
suites: [${files.join(", ")}]
`;
  writeFileSync(join(dir, "weightbridge.yaml"), config("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1"));
  const script = scriptFromSuites(loadProject(join(dir, "weightbridge.yaml")).suites);
  const behaviour = (accuracy, seed) => ({ mode: "script", accuracy, seed, script, refuseTopics: [], fallback: "x" });
  const a = await startSimulator({ latencyMs: 0, behaviour: behaviour(0.9, 11) });
  const b = await startSimulator({ latencyMs: 0, behaviour: behaviour(0.85, 22) });
  writeFileSync(join(dir, "weightbridge.yaml"), config(a.baseUrl, b.baseUrl));
  const t0 = Date.now();
  // Async: the simulators live in this process and must keep answering while eval runs.
  const r = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, "bin/weightbridge.js"), "eval", "-c", join(dir, "weightbridge.yaml"), "--json"], {
      env: { ...process.env, CI: "true" },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, out, err }));
  });
  await Promise.all([a.close(), b.close()]);
  if (r.status !== 0) throw new Error(`eval failed: ${r.err}`);
  const summary = JSON.parse(r.out);
  let cd = 0;
  let cr = 0;
  for (const s of summary.suites) {
    const v = s.models.find((m) => m.id === "beta").vsBaseline;
    if (v.ci95[0] <= -0.05 && -0.05 <= v.ci95[1]) cd++;
    if (v.qualityRatioCi95[0] <= 0.85 / 0.9 && 0.85 / 0.9 <= v.qualityRatioCi95[1]) cr++;
  }
  const ex = exactPairedCoverage(30, cellsFor(0.85, 0.9, 0));
  const se = Math.sqrt((0.95 * 0.05) / SUITES);
  console.log(`| suites × cases | diff coverage (eval --json) | ratio coverage (eval --json) | exact (library) diff / ratio | 1 SE | eval wall time |`);
  console.log("|---|---|---|---|---|---|");
  console.log(
    `| ${SUITES} × 30 | ${pct(cd / SUITES)}% | ${pct(cr / SUITES)}% | ${pct(ex.diffCoverage)}% / ${pct(ex.ratioCoverage)}% | ±${pct(se)} points | ${((Date.now() - t0) / 1000).toFixed(0)} s |`,
  );
}

if (what === "exact" || what === "all") exact();
if (what === "continuous" || what === "all") continuous();
if (what === "sequential" || what === "all") sequential();
if (what === "e2e" || what === "all") await e2e();
