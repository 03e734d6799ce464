import type { Command } from "commander";
import type { Plan } from "../evaluate/plan.js";
import { renderTable } from "../util/table.js";
import { formatSummary } from "./format-eval.js";
import { printJson, say } from "./output.js";

export function registerRuns(program: Command): void {
  const runs = program
    .command("runs")
    .description("list stored runs, newest first")
    .enablePositionalOptions()
    .option("-c, --config <file>", "config whose store to read (or set WEIGHTBRIDGE_DATABASE_URL)")
    .option("--json", 'print an array of {"runId", "createdAt", "status", "suites", "models"}')
    .addHelpText(
      "after",
      `
Examples:
  weightbridge runs -c weightbridge.yaml
  weightbridge runs --json | jq '.[0].runId'
  weightbridge runs show 20261128-101500Z-ab12 -c weightbridge.yaml`,
    )
    .action(async (o: { config?: string; json?: boolean }) => {
      const { openStoreFor } = await import("../evaluate/session.js");
      const { listRuns } = await import("../store/runs.js");
      const { store } = await openStoreFor(o.config);
      try {
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
      } finally {
        await store.close();
      }
    });

  runs
    .command("show <runId>")
    .description("show one run's summary (the same numbers as `eval`)")
    .option("-c, --config <file>", "config whose store to read (or set WEIGHTBRIDGE_DATABASE_URL)")
    .option("--baseline <id>", "compare against this model instead of the run's baseline")
    .option("--json", "print the summary as JSON (the `eval --json` contract)")
    .addHelpText(
      "after",
      `
A unique prefix of the run id is enough.

Examples:
  weightbridge runs show 20261128-101500Z-ab12 -c weightbridge.yaml
  weightbridge runs show 20261128-1015 --baseline qwen3-235b --json`,
    )
    .action(async (runId: string, o: { config?: string; json?: boolean; baseline?: string }) => {
      const { openStoreFor, summariseStoredRun, resolveRun } = await import("../evaluate/session.js");
      const { store } = await openStoreFor(o.config);
      try {
        const found = await resolveRun(store, runId);
        if (found.kind === "bench") {
          const { buildBenchReport, benchTable } = await import("../report/index.js");
          const b = await buildBenchReport(store, found);
          if (o.json) return printJson(b);
          say(`Run ${b.runId} — bench of ${b.model}, ${b.status}, created ${b.createdAt} (times in ms)`);
          return say(benchTable(b.levels));
        }
        const { run, summary, failures } = await summariseStoredRun(store, found.id, o.baseline);
        if (o.json) return printJson(summary);
        say(`Run ${run.id} — ${run.status}, created ${run.createdAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ""}`);
        say(`Config: ${run.configPath}`);
        say("");
        say(formatSummary(summary, failures));
      } finally {
        await store.close();
      }
    });
}
