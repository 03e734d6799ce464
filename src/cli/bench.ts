import { setMaxListeners } from "node:events";
import { type Command, InvalidArgumentError } from "commander";
import { EXIT, fraction, interruptible, positiveInt, positiveNumber, printJson, say, warn } from "./output.js";

function levels(v: string): number[] {
  const xs = v.split(",").map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1 || x > 4096))
    throw new InvalidArgumentError("expected whole numbers from 1 to 4096, e.g. 1,4,16,64");
  return xs;
}

/** "512" (fixed) or "256:1024" (uniform). */
function range(v: string): [number, number] {
  const m = /^(\d+)(?::(\d+))?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError("expected N or MIN:MAX, e.g. 512 or 256:1024");
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi < lo) throw new InvalidArgumentError("expected 1 ≤ MIN ≤ MAX");
  return [lo, hi];
}

interface BenchFlags {
  config: string;
  concurrency: number[];
  requests?: number;
  duration?: string;
  inputTokens: [number, number];
  outputTokens: [number, number];
  ignoreEos?: boolean;
  timeout: string;
  json?: boolean;
  maxErrorRate?: number;
  minThroughput?: number;
  maxTtftP95?: number;
}

type Level = import("../economics/index.js").LevelResult;

/** CI gates over the levels: each failed limit is one line; any makes the exit code 1. */
export function benchFailures(levels: readonly Level[], o: Pick<BenchFlags, "maxErrorRate" | "minThroughput" | "maxTtftP95">): string[] {
  const out: string[] = [];
  for (const l of levels) {
    if (o.maxErrorRate !== undefined && l.errorRate > o.maxErrorRate)
      out.push(`concurrency ${l.concurrency}: ${(l.errorRate * 100).toFixed(1)}% errors (--max-error-rate ${o.maxErrorRate})`);
    if (o.maxTtftP95 !== undefined && l.ttftMs.p95 !== null && l.ttftMs.p95 > o.maxTtftP95)
      out.push(`concurrency ${l.concurrency}: TTFT p95 ${Math.round(l.ttftMs.p95)} ms (--max-ttft-p95 ${o.maxTtftP95})`);
  }
  const best = Math.max(0, ...levels.map((l) => l.outputTokensPerS));
  if (o.minThroughput !== undefined && best < o.minThroughput)
    out.push(`best throughput ${best.toFixed(1)} output tok/s (--min-throughput ${o.minThroughput})`);
  return out;
}

const BENCH_HELP = `
Results are stored as a run of kind "bench"; \`weightbridge cost\` uses them for self-hosting costs.

Examples:
  weightbridge bench qwen-vllm -c weightbridge.yaml --concurrency 1,4,16,64 --requests 200 --ignore-eos
  weightbridge bench qwen-vllm --duration 60s --input-tokens 256:2048 --output-tokens 64:512 --json
  weightbridge simulate --port 8001 --tps 50 &  # then bench a model pointed at it, offline`;

export function registerBench(program: Command): void {
  program
    .command("bench <modelId>")
    .description("load-test a model's endpoint: TTFT, inter-token latency, tokens/s and requests/s per concurrency level")
    .option("-c, --config <file>", "config that defines the model", "weightbridge.yaml")
    .option("--concurrency <levels>", "concurrency levels to sweep", levels, [1, 4, 16, 64])
    .option("--requests <n>", "requests per level (default 100)", positiveInt)
    .option("--duration <time>", 'run each level for this long instead, e.g. "30s"')
    .option("--input-tokens <n|min:max>", "prompt length in tokens, fixed or sampled uniformly", range, [512, 512] as [number, number])
    .option("--output-tokens <n|min:max>", "output length (max_tokens), fixed or sampled", range, [128, 128] as [number, number])
    .option("--ignore-eos", "ask the server for exactly max_tokens (vLLM/SGLang ignore_eos), so output lengths are fixed")
    .option("--timeout <time>", "per-request timeout", "120s")
    .option("--json", 'print {"runId", "model", "levels": [...]} (docs/json-output.md)')
    .option("--max-error-rate <share>", "exit 1 when any level's error rate is above this (0 to 1)", fraction)
    .option("--min-throughput <tok/s>", "exit 1 when the best level's output tokens/s is below this", positiveNumber)
    .option("--max-ttft-p95 <ms>", "exit 1 when any level's TTFT p95 is above this", positiveNumber)
    .addHelpText("after", BENCH_HELP)
    .action(benchAction);
}

type StoreHandle = import("../store/index.js").StoreHandle;
type Provider = ReturnType<typeof import("../providers/index.js").createProvider>;

/** `bench`: the model's provider and a bench run in the store, every level measured and stored as it ends, gated, printed. */
async function benchAction(modelId: string, o: BenchFlags): Promise<void> {
  const [{ loadConfigOnly }, { createProvider }, { closeAgents }, { openStoreFor }, { createRun, newRunId }, { parseDurationMs }, { findModel }] =
    await Promise.all([
      import("../config/index.js"),
      import("../providers/index.js"),
      import("../net/index.js"),
      import("../evaluate/index.js"),
      import("../store/index.js"),
      import("../util/duration.js"),
      import("./model-arg.js"),
    ]);
  const { config, configPath } = loadConfigOnly(o.config);
  const model = findModel(config.models, modelId, configPath);
  const durationMs = o.duration ? parseDurationMs(o.duration, "--duration") : undefined;
  const provider = createProvider(model, Math.max(...o.concurrency));
  const { store } = await openStoreFor(o.config);
  const runId = newRunId();
  const options = {
    levels: o.concurrency,
    requests: o.requests,
    durationMs,
    inputTokens: o.inputTokens,
    outputTokens: o.outputTokens,
    ignoreEos: Boolean(o.ignoreEos),
  };
  await createRun(store.db, { id: runId, kind: "bench", configPath, plan: { model, options } });
  const stop = interruptible();
  try {
    if (!o.json)
      warn(`bench ${modelId}: levels ${o.concurrency.join(", ")}, ${durationMs ? `${durationMs / 1000} s` : `${o.requests ?? 100} requests`} per level`);
    const results = await measureLevels(store, runId, provider, durationMs, stop.signal, o);
    gateBench(modelId, results, o);
    if (o.json) return printJson({ runId, model: modelId, options, levels: results });
    const { benchTable } = await import("../report/index.js");
    say(benchTable(results));
    const failed = results.find((r) => r.firstError);
    if (failed) warn(`first error at concurrency ${failed.concurrency}: ${failed.firstError}`);
    say(`Bench ${runId} stored in ${store.location} (times in ms)`);
  } finally {
    stop.dispose();
    await provider.close();
    await closeAgents();
    await store.close();
  }
}

/** Run the load test, storing each level as it ends (and saying so unless --json), then mark the run finished or interrupted. */
async function measureLevels(
  store: StoreHandle,
  runId: string,
  provider: Provider,
  durationMs: number | undefined,
  signal: AbortSignal,
  o: BenchFlags,
): Promise<Level[]> {
  const [{ finishRun, saveBenchLevel }, { runLoadTest }, { parseDurationMs }] = await Promise.all([
    import("../store/index.js"),
    import("../economics/index.js"),
    import("../util/duration.js"),
  ]);
  setMaxListeners(0, signal); // one listener per request in flight
  const results = await runLoadTest(
    {
      provider,
      levels: o.concurrency,
      ...(o.requests ? { requests: o.requests } : {}),
      ...(durationMs ? { durationMs } : {}),
      inputTokens: o.inputTokens,
      outputTokens: o.outputTokens,
      ignoreEos: Boolean(o.ignoreEos),
      timeoutMs: parseDurationMs(o.timeout, "--timeout"),
      signal,
    },
    async (r) => {
      await saveBenchLevel(store.db, runId, r.concurrency, r);
      if (!o.json)
        warn(
          `  concurrency ${r.concurrency}: ${r.requests} requests, ${r.requestsPerS} req/s, ${r.outputTokensPerS} output tok/s, errors ${(r.errorRate * 100).toFixed(1)}%`,
        );
    },
  );
  await finishRun(store.db, runId, signal.aborted ? "interrupted" : "completed");
  return results;
}

/** Exit 1 when nothing was measured (every request failed) or a CI limit failed; each reason on stderr. */
function gateBench(modelId: string, results: readonly Level[], o: BenchFlags): void {
  // Nothing measured is a failed bench, not a result: exit 1 with the reason.
  const dead = results.length > 0 && results.every((r) => r.errorRate === 1);
  if (dead) {
    warn(`error: bench ${modelId}: every request failed${results[0]?.firstError ? `; first error: ${results[0].firstError}` : ""}`);
    process.exitCode = EXIT.policy;
  }
  for (const line of benchFailures(results, o)) {
    warn(`fail: ${line}`);
    process.exitCode = EXIT.policy;
  }
}
