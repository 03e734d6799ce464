import type { Command } from "commander";
import type { Plan } from "../evaluate/index.js";
import { UserError } from "../util/errors.js";
import { renderTable } from "../util/table.js";
import { list, printJson, say } from "./output.js";
import { storeConfigOption, withStoreFor } from "./store-access.js";

const RUNS_HELP = `
Examples:
  weightbridge runs -c weightbridge.yaml
  weightbridge runs --json | jq '.[0].runId'
  weightbridge runs show 20261128-101500Z-ab12 -c weightbridge.yaml`;

const SHOW_HELP = `
A unique prefix of the run id is enough.

Examples:
  weightbridge runs show 20261128-101500Z-ab12 -c weightbridge.yaml
  weightbridge runs show 20261128-1015 --baseline qwen3-235b --json
  weightbridge runs show 20261128-1015 --cases --changed
  weightbridge runs show 20261128-1015 --cases --errors --model qwen3-235b --format jsonl`;

export function registerRuns(program: Command): void {
  const runs = program
    .command("runs")
    .description("list stored runs, newest first")
    .enablePositionalOptions()
    .addOption(storeConfigOption("read"))
    .option("--json", 'print an array of {"runId", "createdAt", "status", "suites", "models"}')
    .addHelpText("after", RUNS_HELP)
    .action(listAction);

  registerRunsDiffExport(runs);
  runs
    .command("show <runId>")
    .description("show one run's summary (the same numbers as `eval`)")
    .addOption(storeConfigOption("read"))
    .option("--baseline <id>", "compare against this model instead of the run's baseline")
    .option("--json", "print the summary as JSON (the `eval --json` contract)")
    .option("--cases", "per-case rows instead of the summary: input, each model's output, grade and error side by side")
    .option("--failed", "with --cases: only cases some model failed")
    .option("--changed", "with --cases: only cases where a model's pass/fail differs from the baseline's")
    .option("--errors", "with --cases: only cases where a request failed")
    .option("--model <ids>", "with --cases: only these models (comma-separated)", list)
    .option("--suite <names>", "with --cases: only these suites (comma-separated)", list)
    .option("--format <format>", "with --cases: table | jsonl | csv", "table")
    .addHelpText("after", SHOW_HELP)
    .action(showAction);
}

/** `runs`: every stored run, newest first, as a table or JSON. */
async function listAction(o: { config?: string; json?: boolean }): Promise<void> {
  const { listRuns } = await import("../store/index.js");
  await withStoreFor(o.config, async (store) => {
    const rows = (await listRuns(store.db)).map((r) => {
      const plan = r.plan as Partial<Plan>;
      return {
        runId: r.id,
        kind: r.kind,
        createdAt: r.createdAt,
        finishedAt: r.finishedAt,
        status: r.status,
        suites: (plan.suites ?? []).map((s) => s.name),
        models: (plan.models ?? []).map((m) => m.config.id),
      };
    });
    if (o.json) return printJson(rows);
    if (rows.length === 0) return say(`no runs yet in ${store.location}`);
    say(
      renderTable(
        ["run", "created", "status", "suites", "models"],
        rows.map((r) => [r.runId, r.createdAt.replace("T", " ").slice(0, 19), r.status, r.suites.join(","), r.models.join(",")]),
      ),
    );
  });
}

/** `runs show`: per-case rows with --cases; else a bench run's levels or an eval run's summary. */
async function showAction(runId: string, o: ShowFlags): Promise<void> {
  if (o.cases) return showCases(runId, o);
  if (o.failed || o.changed || o.errors || o.model || o.suite || o.format !== "table")
    throw new UserError("--failed, --changed, --errors, --model, --suite and --format go with --cases", "add --cases to see per-case rows");
  const { summariseStoredRun, resolveRun } = await import("../evaluate/index.js");
  const { formatSummary } = await import("./format-eval.js");
  await withStoreFor(o.config, async (store) => {
    const found = await resolveRun(store, runId);
    if (found.kind === "bench") return showBench(store, found, o.json);
    const { run, summary, failures } = await summariseStoredRun(store, found.id, o.baseline);
    if (o.json) return printJson(summary);
    say(`Run ${run.id} — ${run.status}, created ${run.createdAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ""}`);
    say(`Config: ${run.configPath}`);
    say("");
    say(formatSummary(summary, failures));
  });
}

type StoreHandle = import("../store/index.js").StoreHandle;
type StoredRun = Awaited<ReturnType<typeof import("../evaluate/index.js").resolveRun>>;

async function showBench(store: StoreHandle, found: StoredRun, json: boolean | undefined): Promise<void> {
  const { buildBenchReport, benchTable } = await import("../report/index.js");
  const b = await buildBenchReport(store, found);
  if (json) return printJson(b);
  say(`Run ${b.runId} — bench of ${b.model}, ${b.status}, created ${b.createdAt} (times in ms)`);
  say(benchTable(b.levels));
}

interface ShowFlags {
  config?: string;
  json?: boolean;
  baseline?: string;
  cases?: boolean;
  failed?: boolean;
  changed?: boolean;
  errors?: boolean;
  model?: string[];
  suite?: string[];
  format: string;
}

const CASE_FORMATS = ["table", "jsonl", "csv"];

/** `runs show --cases`: check --model/--suite against the run's plan, then the filtered rows as a table, JSONL or CSV. */
async function showCases(runId: string, o: ShowFlags): Promise<void> {
  if (!CASE_FORMATS.includes(o.format)) throw new UserError(`--format must be table, jsonl or csv (got "${o.format}")`);
  const [{ resolveRun }, { loadResults }, cases] = await Promise.all([import("../evaluate/index.js"), import("../store/index.js"), import("./runs-cases.js")]);
  await withStoreFor(o.config, async (store) => {
    const run = await resolveRun(store, runId);
    if (run.kind === "bench")
      throw new UserError(`run ${run.id} is a bench run: it has levels, not cases`, `see them with \`weightbridge runs show ${run.id}\``);
    const plan = run.plan as Plan;
    const known = plan.models.map((m) => m.config.id);
    const unknown = o.model?.find((id) => !known.includes(id));
    if (unknown) throw new UserError(`--model: "${unknown}" is not in run ${run.id}`, `models in this run: ${known.join(", ")}`);
    const unknownSuite = o.suite?.find((s) => !plan.suites.some((x) => x.name === s));
    if (unknownSuite)
      throw new UserError(`--suite: "${unknownSuite}" is not in run ${run.id}`, `suites in this run: ${plan.suites.map((s) => s.name).join(", ")}`);
    const rows = cases.caseRows(plan, await loadResults(store.db, run.id), {
      ...(o.failed ? { failed: true } : {}),
      ...(o.changed ? { changed: true } : {}),
      ...(o.errors ? { errors: true } : {}),
      ...(o.model ? { model: o.model } : {}),
      ...(o.suite ? { suite: o.suite } : {}),
    });
    const models = known.filter((id) => !o.model?.length || o.model.includes(id));
    if (o.format === "jsonl") return void process.stdout.write(cases.casesJsonl(rows));
    if (o.format === "csv") return void process.stdout.write(cases.casesCsv(rows, models));
    say(rows.length ? cases.casesTable(rows, models) : "no cases match");
  });
}

export function registerRunsDiffExport(runs: Command): void {
  runs
    .command("diff <runA> <runB>")
    .description("compare two runs of the same suite case by case (B against A) with paired statistics")
    .addOption(storeConfigOption("read"))
    .option("--json", 'print [{"suite", "modelA", "modelB", "meanA", "meanB", "comparison", "regressions", "improvements"}]')
    .addHelpText(
      "after",
      `
Models are paired by id (or the single model of each run); cases by case id.

Examples:
  weightbridge runs diff 20261101-0900 20261128-1015            # the same model a month later
  weightbridge runs diff old-prompt-run new-prompt-run --json`,
    )
    .action(diffAction);

  runs
    .command("export <runId>")
    .description("every stored result of a run, one row each, as CSV or JSONL")
    .addOption(storeConfigOption("read"))
    .option("--format <format>", "csv | jsonl", "jsonl")
    .option("-o, --out <file>", "write to this file instead of stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  weightbridge runs export 20261128-1015 --format csv -o results.csv\n  weightbridge runs export 20261128-1015 | jq -c 'select(.error)'",
    )
    .action(exportAction);
}

/** `runs diff`: pair the two runs' models and cases, compare B against A. */
async function diffAction(idA: string, idB: string, o: { config?: string; json?: boolean }): Promise<void> {
  const [{ resolveRun }, { loadResults }, { diffRuns, diffTable }] = await Promise.all([
    import("../evaluate/index.js"),
    import("../store/index.js"),
    import("./runs-diff.js"),
  ]);
  await withStoreFor(o.config, async (store) => {
    const load = async (id: string) => {
      const run = await resolveRun(store, id);
      if (run.kind === "bench") throw new UserError(`run ${run.id} is a bench run: it has no cases to compare`, "runs diff compares eval or red-team runs");
      return { id: run.id, models: (run.plan as Plan).models.map((m) => m.config.id), results: await loadResults(store.db, run.id, { withTexts: false }) };
    };
    const rows = diffRuns(await load(idA), await load(idB));
    if (o.json) return printJson(rows);
    say(diffTable(rows));
  });
}

/** `runs export`: every result of the run as JSONL or CSV, to stdout or -o FILE. */
async function exportAction(runId: string, o: { config?: string; format: string; out?: string }): Promise<void> {
  if (!["csv", "jsonl"].includes(o.format)) throw new UserError(`--format must be csv or jsonl (got "${o.format}")`);
  const [{ resolveRun }, { loadResults }, { exportRecord, EXPORT_COLUMNS }, { csvLine }, { writeOutput }] = await Promise.all([
    import("../evaluate/index.js"),
    import("../store/index.js"),
    import("./runs-cases.js"),
    import("../util/csv.js"),
    import("./output.js"),
  ]);
  await withStoreFor(o.config, async (store) => {
    const run = await resolveRun(store, runId);
    if (run.kind === "bench")
      throw new UserError(`run ${run.id} is a bench run: it has levels, not results`, `see them with \`weightbridge report ${run.id} --format json\``);
    const records = (await loadResults(store.db, run.id)).map(exportRecord);
    const text =
      o.format === "jsonl"
        ? records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "")
        : csvLine(EXPORT_COLUMNS) + records.map((r) => csvLine(EXPORT_COLUMNS.map((c) => r[c]))).join("");
    if (o.out) {
      writeOutput(o.out, text);
      say(`${records.length} results written to ${o.out}`);
    } else process.stdout.write(text);
  });
}
