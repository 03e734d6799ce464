import type { Command } from "commander";
import { renderTable } from "../util/table.js";
import { list, positiveNumber, printJson, say, share, warn } from "./output.js";
import { withStoreFor } from "./store-access.js";

interface CostFlags {
  config: string;
  bench: string;
  gpu?: string;
  gpus?: number;
  hourlyUsd?: number;
  utilisation: number;
  requestsPerMonth: number;
  inputTokens: number;
  outputTokens: number;
  p95Ms?: number;
  compare?: string[];
  json?: boolean;
}

const money = (x: number) => (x >= 100 ? `$${Math.round(x).toLocaleString("en-US")}` : `$${x.toFixed(x < 0.01 ? 6 : 2)}`);

const COST_HELP = `
Examples:
  weightbridge cost qwen-vllm --bench 20261128-1015 --gpu H100 --gpus 1 --compare gpt-4o,deepseek-chat
  weightbridge cost qwen-vllm --bench 20261128-1015 --hourly-usd 2.2 --requests-per-month 5e6 --p95-ms 4000 --json`;

export function registerCost(program: Command): void {
  program
    .command("cost <modelId>")
    .description("what self-hosting a model costs, from a bench run, against API options, for a workload")
    .option("-c, --config <file>", "config with the model (and its hosting: {gpu, gpus, hourlyUsd})", "weightbridge.yaml")
    .requiredOption("--bench <runId>", "a `weightbridge bench` run of this model")
    .option("--gpu <name>", "GPU type (overrides hosting.gpu), e.g. H100")
    .option("--gpus <n>", "GPUs per replica (overrides hosting.gpus)", positiveNumber)
    .option("--hourly-usd <usd>", "price per GPU-hour (overrides hosting.hourlyUsd and data/gpus.json)", positiveNumber)
    .option("--utilisation <u>", "share of measured throughput you plan to use on average", share, 0.5)
    .option("--requests-per-month <n>", "workload: requests per month", positiveNumber, 1_000_000)
    .option("--input-tokens <n>", "workload: mean input tokens per request", positiveNumber, 800)
    .option("--output-tokens <n>", "workload: mean output tokens per request", positiveNumber, 200)
    .option("--p95-ms <ms>", "plan with the busiest bench level whose p95 latency meets this", positiveNumber)
    .option("--compare <models>", "API options to compare: config model ids or catalog model names (comma-separated)", list)
    .option("--json", "print the whole calculation as JSON")
    .addHelpText("after", COST_HELP)
    .action(costAction);
}

type Economics = typeof import("../economics/index.js");
type Config = ReturnType<typeof import("../config/index.js").loadConfigOnly>["config"];
type ModelConfig = Config["models"][number];
type Picked = NonNullable<ReturnType<Economics["pickLevel"]>>;
type Hosting = import("../economics/index.js").Hosting;
type Fit = ReturnType<Economics["checkFit"]>;

/** `cost`: the model and its hosting from the config and flags, the planned level from the bench run, the options compared, printed. */
async function costAction(modelId: string, o: CostFlags): Promise<void> {
  const [{ loadConfigOnly }, { findModel }] = await Promise.all([import("../config/index.js"), import("./model-arg.js")]);
  const { config, configPath } = loadConfigOnly(o.config);
  const model = findModel(config.models, modelId, configPath);
  const hosting = await hostingOf(model, o);
  const { checkFit } = await import("../economics/index.js");
  const fit = checkFit("model" in model && model.model ? model.model : model.id, hosting.gpu, hosting.gpus);
  if (fit && !fit.fits) warn(`warning: ${fit.message}; this cost assumes a deployment that cannot run.`);
  await withStoreFor(o.config, async (store) => {
    const { run, picked } = await plannedLevel(store, o, modelId);
    const { loadPrices } = await import("../store/index.js");
    const result = await costOf(modelId, run.id, picked, hosting, fit, config, await loadPrices(store.db), o);
    if (o.json) return printJson(result);
    printCost(result, picked, o);
  });
}

/** The hosting spec: flags over the model's hosting: over the listed GPU price; a missing GPU or price is a UserError. */
async function hostingOf(model: ModelConfig, o: CostFlags): Promise<Hosting> {
  const [tco, { UserError }] = await Promise.all([import("../economics/index.js"), import("../util/errors.js")]);
  const gpu = o.gpu ?? model.hosting?.gpu;
  if (!gpu) throw new UserError(`model ${model.id} has no hosting.gpu`, `add hosting: { gpu: H100, gpus: 1 } to the model, or pass --gpu`);
  const gpus = o.gpus ?? model.hosting?.gpus ?? 1;
  const listed = tco.findGpuPrice(gpu);
  const hourly = o.hourlyUsd ?? model.hosting?.hourlyUsd ?? listed?.hourlyUsd;
  if (hourly === undefined)
    throw new UserError(
      `no price for GPU "${gpu}"`,
      `pass --hourly-usd or set hosting.hourlyUsd; listed GPUs: ${tco
        .loadGpuPrices()
        .map((g) => g.gpu)
        .join(", ")}`,
    );
  const source =
    o.hourlyUsd !== undefined
      ? "--hourly-usd"
      : model.hosting?.hourlyUsd !== undefined
        ? "config"
        : `indicative list price: ${listed?.offer}, ${listed?.source}, ${listed?.asOf}`;
  return { gpu, gpus, hourlyUsd: hourly, source };
}

/** The bench run (of this model) and the level to plan with (--p95-ms); anything else is a UserError. */
async function plannedLevel(store: import("../store/index.js").StoreHandle, o: CostFlags, modelId: string) {
  const [{ resolveRun }, { loadBenchLevels }, { pickLevel }, { UserError }] = await Promise.all([
    import("../evaluate/index.js"),
    import("../store/index.js"),
    import("../economics/index.js"),
    import("../util/errors.js"),
  ]);
  const run = await resolveRun(store, o.bench);
  if (run.kind !== "bench") throw new UserError(`run ${run.id} is a ${run.kind} run, not a bench run`, "run `weightbridge bench MODEL_ID` first");
  const benchModel = (run.plan as { model?: { id?: string } }).model?.id;
  if (benchModel !== modelId) throw new UserError(`bench ${run.id} measured "${benchModel}", not "${modelId}"`, "pass a bench run of this model");
  const levels = await loadBenchLevels<import("../economics/index.js").LevelResult>(store.db, run.id);
  const picked = pickLevel(levels, o.p95Ms);
  if (!picked) throw new UserError(`bench ${run.id} has no level with ≤ 1% errors and measured throughput`, "re-run the bench");
  return { run, picked };
}

/** The whole calculation (the --json contract, docs/json-output.md): unit costs, monthly options cheapest first, break-even volumes. */
async function costOf(
  modelId: string,
  benchRunId: string,
  picked: Picked,
  hosting: Hosting,
  fit: Fit,
  config: Config,
  imported: Awaited<ReturnType<typeof import("../store/index.js").loadPrices>>,
  o: CostFlags,
) {
  const [tco, { UserError }] = await Promise.all([import("../economics/index.js"), import("../util/errors.js")]);
  const workload = { requestsPerMonth: o.requestsPerMonth, inputTokens: o.inputTokens, outputTokens: o.outputTokens };
  const unit = tco.selfHostUnitCosts(picked.level, hosting, o.utilisation);
  const self = tco.selfHostedMonthly(`${modelId} (self-hosted)`, workload, picked.level, hosting, o.utilisation);
  const apis = (o.compare ?? []).map((name) => {
    const m = config.models.find((x) => x.id === name);
    const p = m ? tco.resolvePrice(m as never, imported) : tco.resolvePrice({ provider: "openai-compatible", model: name }, imported);
    if (!p) throw new UserError(`--compare: no price known for "${name}"`, "use a config model id with a price, or a model in `weightbridge prices`");
    return { name, price: p, source: p.source };
  });
  const options = [self, ...apis.map((a) => tco.apiMonthly(workload, a))].sort((a, b) => a.monthlyUsd - b.monthlyUsd);
  const breakEven = apis.map((a) => ({ vs: a.name, requestsPerMonth: tco.breakEvenRequestsPerMonth(workload, a, picked.level, hosting, o.utilisation) }));
  return {
    model: modelId,
    benchRunId,
    hosting,
    utilisation: o.utilisation,
    plannedLevel: {
      concurrency: picked.level.concurrency,
      outputTokensPerS: picked.level.outputTokensPerS,
      latencyP95Ms: picked.level.latencyMs.p95,
      meetsP95Target: picked.meetsTarget,
    },
    unitCosts: unit,
    workload,
    options,
    breakEven,
    ...(fit ? { memoryFit: { weightsGb: fit.weightsGb, memoryGb: fit.memoryGb, fits: fit.fits } } : {}),
  };
}

function printCost(r: Awaited<ReturnType<typeof costOf>>, picked: Picked, o: CostFlags): void {
  const { hosting, unitCosts: unit } = r;
  say(`Self-hosting ${r.model} on ${hosting.gpus}x ${hosting.gpu} at $${hosting.hourlyUsd}/GPU-hour (${hosting.source})`);
  say(
    `planned at concurrency ${picked.level.concurrency}: ${picked.level.outputTokensPerS} output tok/s measured, p95 ${Math.round(picked.level.latencyMs.p95 ?? 0)} ms${o.p95Ms ? (picked.meetsTarget ? ` (meets ${o.p95Ms} ms)` : ` (NO level meets ${o.p95Ms} ms; the fastest is used)`) : ""}, ${Math.round(o.utilisation * 100)}% utilisation`,
  );
  say(`  $${unit.usdPer1MOutputTokens.toFixed(3)} per 1M output tokens (all compute on output); $${unit.usdPer1MTokens.toFixed(3)} per 1M tokens in and out`);
  say("");
  say(`Workload: ${o.requestsPerMonth.toLocaleString("en-US")} requests/month × (${o.inputTokens} in + ${o.outputTokens} out) tokens`);
  say(
    renderTable(
      ["option", "monthly", "per request", "GPUs", "source"],
      r.options.map((x) => [x.name, money(x.monthlyUsd), money(x.usdPerRequest), x.gpus === undefined ? "—" : String(x.gpus), x.source]),
    ),
  );
  for (const b of r.breakEven)
    say(
      b.requestsPerMonth === null
        ? `  vs ${b.vs}: the API stays cheaper than one replica at any volume it can serve`
        : `  vs ${b.vs}: self-hosting breaks even at ${b.requestsPerMonth.toLocaleString("en-US")} requests/month`,
    );
}
