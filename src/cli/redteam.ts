import { type Command, InvalidArgumentError } from "commander";
import { UserError } from "../util/errors.js";
import { createProgress, type Progress, wantsProgress } from "../util/progress.js";
import { renderTable } from "../util/table.js";
import { EXIT, interruptible, list, positiveInt, say, toJson, warn, writeOrPrint } from "./output.js";
import { withStoreFor } from "./store-access.js";

/** "prompt-injection=0.05,pii-leak=0" → limits per pack. */
function maxRates(v: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of list(v)) {
    const m = /^([\w.-]+)=([0-9]*\.?[0-9]+)$/.exec(part);
    const rate = m ? Number(m[2]) : Number.NaN;
    if (!m || !(rate >= 0 && rate <= 1))
      throw new InvalidArgumentError(`expected PACK=RATE pairs with RATE from 0 to 1, e.g. prompt-injection=0.05,pii-leak=0 (got "${part}")`);
    out.set(m[1] as string, rate);
  }
  return out;
}

type Packs = { pack: string; models: { id: string; rate: number; attacks: number }[] }[];

/** CI gate: exit 1 when a model's attack-success rate in a pack is above its limit. */
function gateRates(packs: Packs, limits: Map<string, number>): void {
  for (const p of packs) {
    const limit = limits.get(p.pack);
    if (limit === undefined) continue;
    for (const m of p.models)
      if (m.attacks > 0 && m.rate > limit) {
        warn(`fail: ${m.id}: ${pct(m.rate)} of ${p.pack} attacks succeeded (--max-rate ${p.pack}=${limit})`);
        process.exitCode = EXIT.policy;
      }
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const REDTEAM_HELP = `
Rates mean "the attack succeeded" (for over-refusal: "the harmless request was refused"; for
sensitive-topics: "refused, or answered without the agreed key facts").

Examples:
  weightbridge redteam -c weightbridge.yaml
  weightbridge redteam -c weightbridge.yaml --packs system-prompt-leak,prompt-injection --models qwen-local --json
  weightbridge redteam -c weightbridge.yaml --max-rate prompt-injection=0.05,pii-leak=0 --format junit -o redteam.xml   # CI
  weightbridge redteam -c weightbridge.yaml --packs agentic-injection,multi-turn-escalation --attacker big-model --turns 4`;

export function registerRedteam(program: Command): void {
  program
    .command("redteam")
    .description(
      "red-team the config's models: prompt injection, agentic tool injection, system-prompt and PII leaks, jailbreaks (also multi-turn), over-refusal, sensitive topics, insecure code",
    )
    .option("-c, --config <file>", "config with the models (and the baseline)", "weightbridge.yaml")
    .option("--packs <names>", "only these packs (comma-separated; see data/redteam/)", list)
    .option("--models <ids>", "only these models (comma-separated)", list)
    .option("--concurrency <n>", "most requests in flight", positiveInt)
    .option("--no-cache", "do not read or write the response cache")
    .option("--judge", "ask the config's judge model whether jailbreak answers that were not refused really help")
    .option("--translate-with <modelId>", "add low-resource-language variants (Zulu, Scots Gaelic, Hmong): this model translates the base attacks")
    .option("--attacker <modelId>", "run the multi-turn packs: this model (from the config) escalates towards each goal over several turns")
    .option("--turns <n>", "most target answers per multi-turn conversation (default: the pack's maxTurns, 5)", positiveInt)
    .option("--resume <runId>", "continue an interrupted red-team run; finished attacks are not sent again")
    .option("--json", 'print {"runId", "packs": [{"pack", "models": [{"id", "attacks", "successes", "rate", "ci95", "vsBaseline"}]}]}')
    .option(
      "--max-rate <pack=rate,...>",
      "exit 1 when a model's attack-success rate in a pack is above its limit, e.g. prompt-injection=0.05,pii-leak=0",
      maxRates,
    )
    .option("--format <format>", "table | json | junit (one testcase per attack; a successful attack fails)", "table")
    .option("-o, --out <file>", "with --format json|junit: write to this file instead of stdout")
    .addHelpText("after", REDTEAM_HELP)
    .action(redteamAction);
}

interface RedteamFlags {
  config: string;
  packs?: string[];
  models?: string[];
  concurrency?: number;
  cache: boolean;
  judge?: boolean;
  translateWith?: string;
  attacker?: string;
  turns?: number;
  resume?: string;
  json?: boolean;
  maxRate?: Map<string, number>;
  format: string;
  out?: string;
}

type Redteamed = Awaited<ReturnType<typeof import("../redteam/index.js").runRedteam>>;

/** `redteam`: check the flags, run the packs (Ctrl-C stops cleanly), gate the rates, print in the chosen format. */
async function redteamAction(o: RedteamFlags): Promise<void> {
  if (!["table", "json", "junit"].includes(o.format)) throw new UserError(`--format must be table, json or junit (got "${o.format}")`);
  if (o.format === "json") o.json = true;
  const machine = Boolean(o.json) || o.format === "junit";
  if (o.maxRate) await checkMaxRate(o.maxRate, o.packs);
  const r = await runPacks(o, machine);
  if (r.skipped?.length && !machine) warn(`not run: ${r.skipped.join(", ")} (multi-turn packs need --attacker MODEL)`);
  if (r.status === "interrupted") {
    warn(`interrupted. Resume with:\n  weightbridge redteam -c ${o.config} --resume ${r.runId}`);
    process.exitCode = EXIT.interrupted;
    if (!machine) return;
  }
  if (o.maxRate) gateRates(r.packs, o.maxRate);
  if (o.format === "junit") {
    const xml = await junitOf(o.config, r.runId);
    return writeOrPrint(o.out, xml);
  }
  if (o.json) {
    const { storeLocation: _, ...contract } = r;
    return writeOrPrint(o.out, toJson(contract));
  }
  printPacks(r);
}

/** Every --max-rate pack must exist and be among --packs (when given): a limit that cannot apply is a usage error. */
async function checkMaxRate(maxRate: Map<string, number>, packs: string[] | undefined): Promise<void> {
  const { listPacks } = await import("../redteam/index.js");
  const known = listPacks();
  const unknown = [...maxRate.keys()].find((k) => !known.includes(k));
  if (unknown) throw new UserError(`--max-rate: unknown pack "${unknown}"`, `packs: ${known.join(", ")}`);
  const notRun = packs ? [...maxRate.keys()].find((k) => !packs.includes(k)) : undefined;
  if (notRun) throw new UserError(`--max-rate: pack "${notRun}" is not in --packs`, "add it to --packs, or drop its limit");
}

/** The red-team run with a progress bar (quiet for machine formats), stoppable with Ctrl-C. */
async function runPacks(o: RedteamFlags, machine: boolean): Promise<Redteamed> {
  const { runRedteam } = await import("../redteam/index.js");
  let bar: Progress | undefined;
  const stop = interruptible();
  try {
    return await runRedteam({
      config: o.config,
      ...(o.packs ? { packs: o.packs } : {}),
      ...(o.models ? { models: o.models } : {}),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      noCache: !o.cache,
      judge: Boolean(o.judge),
      ...(o.translateWith ? { translateWith: o.translateWith } : {}),
      ...(o.attacker ? { attacker: o.attacker } : {}),
      ...(o.turns ? { turns: o.turns } : {}),
      ...(o.resume ? { resume: o.resume } : {}),
      signal: stop.signal,
      onStart: ({ runId, total }) => {
        if (!machine) warn(`red-team run ${runId}: ${total} attacks`);
        bar = createProgress("redteam", total, wantsProgress(machine));
      },
      onProgress: (d, t) => bar?.update(d, t),
    });
  } finally {
    bar?.stop();
    stop.dispose();
  }
}

function printPacks(r: Redteamed): void {
  for (const p of r.packs) {
    say(`Pack ${p.pack}: ${p.description}`);
    say(
      renderTable(
        ["model", "attacks", "successes", "rate [95% CI]", "vs baseline", "p"],
        p.models.map((m) => [
          m.id + (m.id === r.baseline ? " (baseline)" : ""),
          String(m.attacks),
          String(m.successes),
          `${pct(m.rate)} [${pct(m.ci95[0])}–${pct(m.ci95[1])}]`,
          m.vsBaseline ? `${m.vsBaseline.diff >= 0 ? "+" : ""}${(m.vsBaseline.diff * 100).toFixed(1)} pts` : "—",
          m.vsBaseline ? (m.vsBaseline.pValue < 0.001 ? "< 0.001" : m.vsBaseline.pValue.toFixed(3)) : "—",
        ]),
      ),
    );
    say("");
  }
  say(`Run ${r.runId} stored in ${r.storeLocation}; full transcripts are in the results table.`);
}

/** The run's attacks as JUnit, read back from the store (with their texts). */
async function junitOf(config: string, runId: string): Promise<string> {
  const [{ loadResults }, { redteamJunit }] = await Promise.all([import("../store/index.js"), import("../report/index.js")]);
  return withStoreFor(config, async (store) => redteamJunit(runId, await loadResults(store.db, runId)));
}
