import type { Command } from "commander";
import { renderTable } from "../util/table.js";
import { EXIT, printJson, say, warn } from "./output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check a config before spending money: config, suites and graders load, each endpoint answers, and what the run would cost")
    .option("-c, --config <file>", "config file", "weightbridge.yaml")
    .option("--offline", "skip the one-token request to each endpoint")
    .option("--json", 'print {"configPath", "suites", "endpoints": [{"id", "ok", "latencyMs", "error"}], "cost": [...], "totalMaxUsd"}')
    .addHelpText(
      "after",
      `
Exit 0 when everything checks out, 1 when an endpoint does not answer, 2 when the config is invalid.
The cost is an upper bound: prompts at ~4 characters per token, every answer at its maxTokens cap (256 if unset).

Examples:
  weightbridge validate -c weightbridge.yaml
  weightbridge validate --offline --json | jq '.totalMaxUsd'`,
    )
    .action(async (o: { config: string; offline?: boolean; json?: boolean }) => {
      const { validateProject } = await import("../evaluate/index.js");
      const v = await validateProject(o.config, { offline: Boolean(o.offline) });
      const failed = v.endpoints.filter((e) => e.ok === false);
      if (failed.length) process.exitCode = EXIT.policy;
      if (o.json) return printJson(v);
      say(`Config ${v.configPath}: OK`);
      say(`Suites: ${v.suites.map((s) => `${s.name} (${s.cases} cases)`).join(", ")} — graders OK`);
      say(
        renderTable(
          ["model", "endpoint", "requests", "input tokens", "output tokens ≤", "cost ≤", "price from"],
          v.cost.map((c) => {
            const e = v.endpoints.find((x) => x.id === c.id);
            return [
              c.id,
              e?.ok === null ? "not checked" : e?.ok ? `OK (${e.latencyMs} ms)` : "FAILED",
              String(c.requests),
              String(c.inputTokens),
              String(c.maxOutputTokens),
              c.maxUsd === null ? "—" : `$${c.maxUsd.toFixed(4)}`,
              c.priceSource ?? "no price",
            ];
          }),
        ),
      );
      if (v.totalMaxUsd !== null) say(`Estimated cost of the run: at most $${v.totalMaxUsd.toFixed(4)} (priced models only).`);
      for (const e of failed) warn(`error: model ${e.id}: the endpoint did not answer: ${e.error}`);
    });
}
