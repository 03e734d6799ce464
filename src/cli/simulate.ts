import { resolve } from "node:path";
import type { Command } from "commander";
import type { Suite } from "../config/index.js";
import type { Mode } from "../simulate/index.js";
import { UserError } from "../util/errors.js";
import { fraction, list, nonNegative, port, say, warn } from "./output.js";

interface SimFlags {
  config?: string;
  suite?: string[];
  host: string;
  port: number;
  model: string;
  accuracy: number;
  latency: number;
  jitter: number;
  tps: number;
  errorRate: number;
  rateLimitRate: number;
  mode: Mode;
  refuseTopics?: string[];
  seed: number;
  toolErrors?: Record<string, number>;
}

const TOOL_ERROR_KINDS = ["wrongTool", "wrongArgument", "asText", "noCall", "badJson"];

/** `--tool-errors wrongTool=2,asText=1`: relative weights of the errors a wrong tool case makes (unnamed kinds weigh 0). */
function toolErrorMix(v: string): Record<string, number> {
  const mix: Record<string, number> = Object.fromEntries(TOOL_ERROR_KINDS.map((k) => [k, 0]));
  for (const part of v.split(",").filter((p) => p.trim() !== "")) {
    const [k = "", w = ""] = part.split("=").map((x) => x.trim());
    const n = Number(w);
    if (!TOOL_ERROR_KINDS.includes(k) || w === "" || !Number.isFinite(n) || n < 0)
      throw new UserError(
        `--tool-errors: "${part}" is not KIND=WEIGHT`,
        `kinds: ${TOOL_ERROR_KINDS.join(", ")}; weights are numbers ≥ 0, e.g. wrongTool=1,asText=2`,
      );
    mix[k] = n;
  }
  if (Object.values(mix).every((n) => n === 0)) throw new UserError("--tool-errors: give at least one kind a weight above 0", "e.g. --tool-errors asText=1");
  return mix;
}

const SIMULATE_HELP = `
Answers are scripted from the suites' expects (or each case's "ideal"); which cases are right is
fixed by --seed and --accuracy, so the simulated model is consistent from run to run. Tool cases
are answered with tool calls; a wrong one makes an error drawn by --tool-errors (docs/config.md).

Examples:
  weightbridge simulate -c examples/support/weightbridge.yaml --port 8001 --accuracy 0.92
  weightbridge simulate --suite suite.yaml --latency 200 --jitter 50 --rate-limit-rate 0.05
  weightbridge simulate --mode echo --port 8002
  weightbridge simulate --suite examples/support/agent.yaml --accuracy 0.8 --tool-errors asText=3,wrongArgument=1`;

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("serve a SIMULATED OpenAI-compatible (and Anthropic) model on 127.0.0.1, for demos and offline pipeline tests")
    .option("-c, --config <file>", "answer the cases of this config's suites")
    .option("--suite <files>", "answer the cases of these suite files (comma-separated)", list)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", port, 8001)
    .option("--model <name>", "model name the server reports", "simulated")
    .option("--accuracy <p>", "share of scripted cases answered right", fraction, 0.9)
    .option("--latency <ms>", "mean latency before the first token", nonNegative, 20)
    .option("--jitter <ms>", "uniform ± jitter on the latency", nonNegative, 0)
    .option("--tps <n>", "stream at N output chunks per second (0 = all at once)", nonNegative, 0)
    .option("--error-rate <p>", "share of requests answered with HTTP 500", fraction, 0)
    .option("--rate-limit-rate <p>", "share of requests answered with HTTP 429 + Retry-After", fraction, 0)
    .option("--mode <mode>", "script | echo (repeat the whole context) | refuse (refuse everything)", "script")
    .option("--refuse-topics <words>", "refuse any request mentioning one of these (comma-separated)", list)
    .option("--seed <n>", "seed for which cases are answered right", (v) => Number.parseInt(v, 10) || 1, 1)
    .option("--tool-errors <mix>", "tool cases answered wrong: weights of wrongTool, wrongArgument, asText, noCall, badJson (default 1,1,1,1,0)", toolErrorMix)
    .addHelpText("after", SIMULATE_HELP)
    .action(simulateAction);
}

/** `simulate`: load the suites to script answers from, serve until SIGINT/SIGTERM, say how many requests were served. */
async function simulateAction(o: SimFlags): Promise<void> {
  if (!["script", "echo", "refuse"].includes(o.mode)) throw new UserError(`--mode must be script, echo or refuse (got "${o.mode}")`);
  const [{ scriptFromSuites }, { startSimulator }] = await Promise.all([import("../simulate/index.js"), import("../simulate/index.js")]);
  const suites = await loadSuites(o);
  const sim = await startSimulatorOrExplain(startSimulator, o.host, o.port, {
    model: o.model,
    latencyMs: o.latency,
    jitterMs: o.jitter,
    tokensPerSecond: o.tps,
    errorRate: o.errorRate,
    rateLimitRate: o.rateLimitRate,
    seed: o.seed,
    behaviour: {
      mode: o.mode,
      accuracy: o.accuracy,
      seed: o.seed,
      script: scriptFromSuites(suites),
      refuseTopics: o.refuseTopics ?? [],
      fallback: "This is a simulated answer.",
      ...(o.toolErrors ? { toolErrors: o.toolErrors as import("../simulate/index.js").ToolErrorMix } : {}),
    },
  });
  // Ctrl-C handlers go in before the banner: a script that stops us as soon as it sees it gets a clean stop.
  const stopped = new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  // Fastify reports 127.0.0.1 for a wildcard host; say where it really listens.
  const where =
    o.host === "127.0.0.1"
      ? sim.baseUrl
      : sim.baseUrl.replace(/^http:\/\/[^/]+:(\d+)/, (_, p: string) => `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${p}`);
  say(`SIMULATION — not a real model. "${o.model}" listening on ${where}`);
  say(
    `  ${suites.reduce((a, s) => a + s.cases.length, 0)} scripted cases, accuracy ${o.accuracy}, latency ${o.latency}±${o.jitter} ms, errors ${o.errorRate}, 429s ${o.rateLimitRate}, mode ${o.mode}`,
  );
  warn("Ctrl-C to stop.");
  await stopped;
  await sim.close();
  say(`served ${sim.stats.requests} requests`);
}

/** The config's suites, then the --suite files. */
async function loadSuites(o: SimFlags): Promise<Suite[]> {
  const { loadProjectAsync, loadSuiteAsync } = await import("../config/index.js");
  const suites: Suite[] = [];
  if (o.config) suites.push(...(await loadProjectAsync(o.config)).suites);
  for (const f of o.suite ?? []) suites.push(await loadSuiteAsync(resolve(f)));
  return suites;
}

type Start = typeof import("../simulate/index.js").startSimulator;

/** A taken port or an address that is not ours is a UserError, not a stack trace. */
async function startSimulatorOrExplain(start: Start, host: string, port: number, rest: Omit<Parameters<Start>[0], "host" | "port">) {
  try {
    return await start({ host, port, ...rest });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UserError(`--port ${port}: the port is already in use on ${host}`, "pick another port, or --port 0 for any free one");
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EACCES")
      throw new UserError(
        `cannot listen on ${host}:${port} (${code})`,
        code === "EACCES" ? "ports below 1024 need privileges; use a higher port" : "use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0",
      );
    throw e;
  }
}
