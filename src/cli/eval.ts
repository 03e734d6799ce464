import type { Command } from "commander";
import { UserError } from "../util/errors.js";
import { createProgress, type Progress, wantsProgress } from "../util/progress.js";
import { EXIT, fraction, interruptible, list, positiveInt, say, toJson, warn, writeOrPrint } from "./output.js";

interface EvalFlags {
  config: string;
  suite?: string[];
  models?: string[];
  repeat?: number;
  concurrency?: number;
  cache: boolean;
  resume?: string;
  json?: boolean;
  untilDecided?: boolean;
  maxCases?: number;
  format: string;
  out?: string;
  failBelow?: number;
}

const FORMATS = ["table", "json", "junit", "github"];

const EVAL_HELP = `
Examples:
  weightbridge eval -c weightbridge.yaml
  weightbridge eval -c weightbridge.yaml --suite ticket-intent --models gpt-4o,qwen-local --repeat 3
  weightbridge eval -c weightbridge.yaml --json > result.json
  weightbridge eval -c weightbridge.yaml --format junit -o eval-junit.xml --fail-below 0.8      # CI
  weightbridge eval -c weightbridge.yaml --format github >> "$GITHUB_STEP_SUMMARY"
  weightbridge eval -c weightbridge.yaml --resume 20261128-101500Z-ab12`;

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("run suites against models and compare each with the baseline, with paired statistics")
    .option("-c, --config <file>", "config file", "weightbridge.yaml")
    .option("--suite <names>", "only these suites (comma-separated)", list)
    .option("--models <ids>", "only these models (comma-separated)", list)
    .option("--repeat <k>", "ask each case K times (stability); statistics use the per-case mean", positiveInt)
    .option("--concurrency <n>", "most requests in flight across all models (default 64)", positiveInt)
    .option("--no-cache", "do not read or write the response cache")
    .option("--resume <runId>", "continue an interrupted run; finished requests are not sent again")
    .option("--until-decided", "cases in a seeded random order; stop each suite once every verdict is settled (group-sequential, docs/statistics.md)")
    .option("--max-cases <n>", "with --until-decided: at most N cases per suite", positiveInt)
    .option("--json", "print exactly one JSON object (see docs/json-output.md); same as --format json")
    .option("--format <format>", "table | json | junit (one testcase per case × model) | github (Markdown for $GITHUB_STEP_SUMMARY)", "table")
    .option("-o, --out <file>", "with --format json|junit|github: write to this file instead of stdout")
    .option("--fail-below <score>", "exit 1 when any model's mean score on a suite is below this (0 to 1)", fraction)
    .addHelpText("after", EVAL_HELP)
    .action(evalAction);
}

type Evaluated = Awaited<ReturnType<typeof import("../evaluate/index.js").evaluate>>;

/** `eval`: check the format flags, run (Ctrl-C stops cleanly), print in the chosen format, then the exit-code gates. */
async function evalAction(o: EvalFlags): Promise<void> {
  if (!FORMATS.includes(o.format)) throw new UserError(`--format must be one of ${FORMATS.join(", ")} (got "${o.format}")`);
  if (o.json) o.format = "json";
  if (o.out && o.format === "table") throw new UserError("-o goes with --format json, junit or github", "add --format junit (or json, github)");
  const json = o.format !== "table";
  const stop = interruptible();
  let bar: Progress | undefined;
  let retries = 0;
  try {
    const { evaluate } = await import("../evaluate/index.js");
    const r = await evaluate({
      config: o.config,
      ...(o.suite ? { suites: o.suite } : {}),
      ...(o.models ? { models: o.models } : {}),
      ...(o.repeat ? { repeat: o.repeat } : {}),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      noCache: !o.cache,
      ...(o.resume ? { resume: o.resume } : {}),
      ...(o.untilDecided ? { untilDecided: true } : {}),
      ...(o.maxCases ? { maxCases: o.maxCases } : {}),
      signal: stop.signal,
      onStart: ({ runId, total, resumed }) => {
        if (!json) warn(`${resumed ? "resuming" : "starting"} run ${runId}: ${total} requests`);
        bar = createProgress("eval", total, wantsProgress(json));
      },
      onProgress: (done, total) => bar?.update(done, total),
      onRetry: () => {
        retries++;
      },
    });
    bar?.stop();
    await printEval(r, o, retries);
    await gateEval(r, o);
  } finally {
    bar?.stop();
    stop.dispose();
  }
}

async function printEval(r: Evaluated, o: EvalFlags, retries: number): Promise<void> {
  // Loaded here, not at start-up: the tool-call table brings the evaluate part with it.
  const { formatSummary, formatSummaryGithub } = await import("./format-eval.js");
  if (o.format === "json") return writeOrPrint(o.out, toJson(r.summary));
  if (o.format === "junit") return writeOrPrint(o.out, (await import("../report/index.js")).evalJunit(r.runId, r.results));
  if (o.format === "github") return writeOrPrint(o.out, formatSummaryGithub(r.summary, r.failures));
  say(formatSummary(r.summary, r.failures));
  for (const s of r.summary.sequential?.suites ?? [])
    say(
      `${s.name}: ${s.cases < s.of ? `stopped early after ${s.cases} of ${s.of} cases` : `ran ${s.cases} of ${s.of} cases`} (look ${s.look}, α ${s.alpha.toFixed(4)}): ${s.reason}`,
    );
  if (retries) say(`${retries} request(s) were retried after 429/5xx/timeouts.`);
  say(`Run ${r.runId} stored in ${r.storeLocation}`);
  say(`Inspect it: weightbridge runs show ${r.runId} -c ${o.config}`);
}

/** Exit 1 when a model failed every request or a suite scored under --fail-below; 130 when interrupted (with how to resume). */
async function gateEval(r: Evaluated, o: EvalFlags): Promise<void> {
  const [{ allFailed }, { belowThreshold }] = await Promise.all([import("../evaluate/index.js"), import("./format-eval.js")]);
  for (const f of allFailed(r.failures)) {
    warn(`error: model ${f.id}: every request failed (${f.errors} of ${f.requests}); first error: ${f.firstError}`);
    process.exitCode = EXIT.policy;
  }
  if (o.failBelow !== undefined)
    for (const line of belowThreshold(r.summary, o.failBelow)) {
      warn(`fail: ${line} (--fail-below)`);
      process.exitCode = EXIT.policy;
    }
  if (r.outcome.status === "interrupted") {
    const left = r.outcome.total - r.outcome.skipped - r.outcome.requested - r.outcome.cached;
    warn(`interrupted with ${left} request(s) left. Resume with:\n  weightbridge eval -c ${o.config} --resume ${r.runId}`);
    process.exitCode = EXIT.interrupted;
  }
}
