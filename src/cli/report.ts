import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../util/errors.js";
import { EXIT, list, positiveNumber, printJson, say } from "./output.js";

interface ReportFlags {
  config?: string;
  baseline?: string;
  format: string;
  out?: string;
  minQuality?: number;
  maxCostRatio?: number;
  scan?: string[];
}

export function registerReport(program: Command): void {
  program
    .command("report <runId>")
    .description("the adoption report of a run: verdicts, quality vs cost with CIs, latency, and the cases that changed")
    .option("-c, --config <file>", "config whose store to read (or set WEIGHTBRIDGE_DATABASE_URL)")
    .option("--baseline <id>", "compare against this model instead of the run's baseline")
    .option("--format <format>", "html | md | json", "html")
    .option("-o, --out <file>", "write to this file (default: stdout for md/json, report-RUNID.html for html)")
    .option("--min-quality <ratio>", "adopt only if the quality ratio's lower 95% bound reaches this (default 0.9)", positiveNumber)
    .option("--scan <files>", "add artifact vetting from `weightbridge scan --format json` reports (comma-separated)", list)
    .option("--max-cost-ratio <ratio>", "adopt only if candidate cost / baseline cost is at most this (default 0.5)", positiveNumber)
    .addHelpText(
      "after",
      `
Criteria can also be set in the config:  report: { criteria: { minQualityRatio: 0.9, maxCostRatio: 0.5 } }

Examples:
  weightbridge report 20261128-101500Z-ab12 -c weightbridge.yaml                 # report-<run>.html
  weightbridge report 20261128-1015 --format md -o report.md
  weightbridge report 20261128-1015 --format json --baseline gpt-4o | jq '.candidates'
  weightbridge scan ./models/qwen3 --format json -o scan.json && weightbridge report 20261128-1015 --scan scan.json`,
    )
    .action(async (runId: string, o: ReportFlags) => {
      if (!["html", "md", "json"].includes(o.format)) throw new UserError(`--format must be html, md or json (got "${o.format}")`);
      const [{ openStoreFor }, { loadConfigOnly }, { buildReport, loadScanSummary, renderHtml, renderMarkdown }] = await Promise.all([
        import("../evaluate/session.js"),
        import("../config/project.js"),
        import("../report/index.js"),
      ]);
      const artifacts = (o.scan ?? []).map((f) => loadScanSummary(f));
      // Criteria come from the config, unless only WEIGHTBRIDGE_DATABASE_URL says where the store is.
      const fromConfig = o.config || !process.env.WEIGHTBRIDGE_DATABASE_URL ? loadConfigOnly(o.config).config.report?.criteria : undefined;
      const { store } = await openStoreFor(o.config);
      try {
        const built = await buildReport(store, runId, {
          ...(o.baseline ? { baseline: o.baseline } : {}),
          criteria: {
            ...(fromConfig?.minQualityRatio !== undefined ? { minQualityRatio: fromConfig.minQualityRatio } : {}),
            ...(fromConfig?.maxCostRatio !== undefined ? { maxCostRatio: fromConfig.maxCostRatio } : {}),
            ...(o.minQuality !== undefined ? { minQualityRatio: o.minQuality } : {}),
            ...(o.maxCostRatio !== undefined ? { maxCostRatio: o.maxCostRatio } : {}),
          },
        });
        const report = artifacts.length ? { ...built, artifacts } : built;
        if (o.format === "json") {
          if (o.out) writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
          else printJson(report);
        } else if (o.format === "md") {
          const md = renderMarkdown(report);
          if (o.out) writeFileSync(o.out, md);
          else process.stdout.write(md);
        } else {
          const file = resolve(o.out ?? `report-${report.runId}.html`);
          writeFileSync(file, renderHtml(report));
          say(`Report written to ${file}`);
        }
        if (o.out && o.format !== "html") say(`Report written to ${resolve(o.out)}`);
        process.exitCode = EXIT.ok;
      } finally {
        await store.close();
      }
    });
}
