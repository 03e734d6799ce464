/**
 * The offline demo: two simulated endpoints (a "proprietary baseline" and a "hosted open model"),
 * a tiny random-weight GGUF run through node-llama-cpp as a local model, the example suites, one
 * eval run stored in SQLite, and the comparison printed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { loadSuite } from "../config/index.js";
import { type EvaluateResult, evaluate } from "../evaluate/index.js";
import { writeTinyGguf } from "../providers/index.js";
import { buildReport, renderHtml } from "../report/index.js";
import { ingestFile, showScoreboard, stackedShareChart } from "../scoreboard/index.js";
import { type Simulator, scriptFromSuites, startSimulator } from "../simulate/index.js";
import { openStore } from "../store/index.js";
import { packagePath } from "../util/package-root.js";
import { demoShadow, type ShadowStep, shadowLines } from "./shadow-step.js";

export interface DemoOptions {
  dir: string;
  log: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
  onStart?: (total: number) => void;
  /** Skip the local GGUF model (e.g. where node-llama-cpp's binaries are unavailable). */
  skipLocal?: boolean;
}

export interface DemoResult {
  eval: EvaluateResult;
  configPath: string;
  reportPath: string;
  scoreboard: { headline: string; chartPath: string };
  /** The shadow step: simulated traffic through the gateway with the open model mirrored. */
  shadow: ShadowStep;
  /** The local model file vetted by `scan` (absent with skipLocal). */
  artifact?: { path: string; verdict: string; sha256: string; worst: string; reasons: string[] };
}

export const DEMO_SUITES = ["support/intent.yaml", "support/extract.yaml", "support/reply.yaml", "support/agent.yaml", "recommendations/suite.yaml"];

/** The ecosystem view: the shipped trending snapshots, by base-model lab over time. */
async function demoScoreboard(storeLocation: string, dir: string): Promise<DemoResult["scoreboard"]> {
  const store = await openStore(storeLocation);
  try {
    await ingestFile(store, packagePath("examples", "scoreboard", "hf-trending-2026.jsonl"));
    const r = await showScoreboard(store, { by: "country", metric: "downloads", top: 5, since: "2026-03-01" });
    const chartPath = join(dir, "scoreboard-labs.svg");
    const labs = await showScoreboard(store, { by: "lab", metric: "downloads", top: 7, since: "2026-03-01" });
    if (labs.series) writeFileSync(chartPath, stackedShareChart("Hugging Face trending downloads by base-model lab", labs.series.times, labs.series.keys));
    const head = r.rows
      .slice(0, 3)
      .map((x) => `${x.key} ${(x.share * 100).toFixed(0)}%`)
      .join(", ");
    return { headline: `Hugging Face trending models on ${r.snapshot.slice(0, 10)}, downloads by base-model country: ${head}`, chartPath };
  } finally {
    await store.close();
  }
}

/** Vet the local model file as a security review would: formats, chat template, license, hash. */
async function demoScan(path: string): Promise<NonNullable<DemoResult["artifact"]>> {
  const { scan } = await import("../vet/index.js");
  const r = await scan(path);
  const worst = r.findings[0];
  return {
    path,
    verdict: r.verdict,
    sha256: r.files[0]?.sha256 ?? "",
    worst: worst ? `${worst.severity} ${worst.rule}: ${worst.message}` : "no findings",
    reasons: r.reasons,
  };
}

/** The demo's steps: two simulated endpoints, the config, shadow traffic, the eval run, its report, the scoreboard, the scan. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const suiteFiles = DEMO_SUITES.map((s) => packagePath("examples", s));
  const suites = suiteFiles.map((f) => loadSuite(f));
  const sims: Simulator[] = [];
  try {
    const { baseline, open } = await startDemoSimulators(scriptFromSuites(suites), sims, o.log);
    const configPath = await writeDemoConfig(dir, suiteFiles, baseline, open, o);
    // Real traffic first (so the eval run stays the newest): the intent suite's messages as support requests, mirrored to the open model.
    const shadow = await demoShadow({
      dir,
      storeLocation: join(dir, ".weightbridge", "weightbridge.db"),
      primary: baseline,
      candidate: open,
      cases: suites[0]?.cases ?? [],
      requests: 300,
    });
    for (const line of shadowLines(shadow)) o.log(line);
    o.log(`Shadow report: node bin/weightbridge.js shadow report -c ${shadow.configPath}`);
    const result = await evaluate({
      config: configPath,
      onStart: ({ runId, total }) => {
        o.log(`Run ${runId}: ${total} requests over ${suites.length} suites (${suites.reduce((a, s) => a + s.cases.length, 0)} cases)`);
        o.onStart?.(total);
      },
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    const reportPath = await demoReport(result, dir);
    const scoreboard = await demoScoreboard(result.storeLocation, dir);
    const artifact = o.skipLocal ? undefined : await demoScan(join(dir, "tiny-random.gguf"));
    return { eval: result, configPath, reportPath, scoreboard, shadow, ...(artifact ? { artifact } : {}) };
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
}

type Script = ReturnType<typeof scriptFromSuites>;

/** The "proprietary baseline" and the "hosted open model", both simulations on 127.0.0.1 (pushed onto `sims` to be closed). */
async function startDemoSimulators(script: Script, sims: Simulator[], log: (line: string) => void): Promise<{ baseline: Simulator; open: Simulator }> {
  const baseline = await startSimulator({
    model: "gpt-4o",
    latencyMs: 60,
    jitterMs: 25,
    seed: 11,
    behaviour: { mode: "script", accuracy: 0.93, seed: 11, script, refuseTopics: [], fallback: "This is a simulated answer." },
  });
  sims.push(baseline);
  const open = await startSimulator({
    model: "qwen3-235b",
    latencyMs: 35,
    jitterMs: 15,
    rateLimitRate: 0.02,
    retryAfterSeconds: 0,
    seed: 23,
    behaviour: { mode: "script", accuracy: 0.88, seed: 23, script, refuseTopics: [], fallback: "This is a simulated answer." },
  });
  sims.push(open);
  log(`SIMULATION: "gpt-4o" (proprietary baseline, 93% scripted accuracy) at ${baseline.baseUrl}`);
  log(`SIMULATION: "qwen3-235b" (hosted open model, 88% scripted accuracy, 2% HTTP 429) at ${open.baseUrl}`);
  return { baseline, open };
}

/** weightbridge.yaml with the two endpoints and, unless skipped, a tiny generated GGUF as the local model. */
async function writeDemoConfig(dir: string, suiteFiles: string[], baseline: Simulator, open: Simulator, o: DemoOptions): Promise<string> {
  const models: Record<string, unknown>[] = [
    { id: "gpt-4o", provider: "openai-compatible", baseUrl: baseline.baseUrl, model: "gpt-4o", concurrency: 16 },
    { id: "qwen3-235b", provider: "openai-compatible", baseUrl: open.baseUrl, model: "Qwen/Qwen3-235B-A22B-Instruct-2507", concurrency: 16 },
  ];
  if (!o.skipLocal) {
    const gguf = join(dir, "tiny-random.gguf");
    const size = await writeTinyGguf(gguf);
    o.log(`Local model: generated ${gguf} (${Math.round(size / 1024)} KB, random weights: its answers are gibberish, the node-llama-cpp path is real)`);
    models.push({ id: "tiny-local", provider: "local", path: gguf, contextSize: 2048, threads: 1, params: { maxTokens: 12 } });
  }
  const config = { models, baseline: "gpt-4o", judge: "gpt-4o", embedder: "gpt-4o", suites: suiteFiles };
  const configPath = join(dir, "weightbridge.yaml");
  writeFileSync(configPath, `# Written by \`weightbridge demo\`; endpoints are simulations on 127.0.0.1.\n${stringify(config)}`);
  return configPath;
}

/** The eval run's HTML report, written beside the config. */
async function demoReport(result: EvaluateResult, dir: string): Promise<string> {
  const store = await openStore(result.storeLocation);
  try {
    const reportPath = join(dir, `report-${result.runId}.html`);
    writeFileSync(reportPath, renderHtml(await buildReport(store, result.runId)));
    return reportPath;
  } finally {
    await store.close();
  }
}
