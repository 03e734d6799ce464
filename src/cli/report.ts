import { resolve } from "node:path";
import type { Command } from "commander";
import type { Report } from "../report/index.js";
import { UserError } from "../util/errors.js";
import { EXIT, fraction, list, positiveNumber, say, toJson, warn, writeOrPrint, writeOutput } from "./output.js";
import { storeConfigOption } from "./store-access.js";

interface ReportFlags {
  config?: string;
  baseline?: string;
  format: string;
  out?: string;
  minQuality?: number;
  maxCostRatio?: number;
  maxErrorRate?: number;
  failOn?: string[];
  scan?: string[];
}

const VERDICTS = ["adopt", "reject", "inconclusive", "incomplete", "error"];

function failOn(v: string): string[] {
  const xs = list(v).map((x) => x.toLowerCase());
  const bad = xs.find((x) => !VERDICTS.includes(x));
  if (bad !== undefined) throw new UserError(`--fail-on: unknown verdict "${bad}"`, `use any of ${VERDICTS.join(", ")}, comma-separated`);
  return xs;
}

/** Write (or print) one rendering of a report. */
function emit(
  format: string,
  out: string | undefined,
  runId: string,
  text: { json: unknown; md: () => string; html: () => string; github?: () => string },
): void {
  if (format === "github") writeOrPrint(out, (text.github ?? text.md)());
  else if (format === "json") writeOrPrint(out, toJson(text.json));
  else if (format === "md") writeOrPrint(out, text.md());
  else {
    const file = resolve(out ?? `report-${runId}.html`);
    writeOutput(file, text.html());
    say(`Report written to ${file}`);
  }
  if (out && format !== "html") say(`Report written to ${resolve(out)}`);
}

/** CI gate: exit 1 when a candidate's verdict is one the pipeline refuses. */
function gate(report: Report, refuse: string[] | undefined): void {
  if (!refuse?.length) return;
  const failing = report.candidates.filter((c) => refuse.includes(c.verdict));
  for (const c of failing) warn(`fail: ${c.id} is ${c.verdict.toUpperCase()} (--fail-on ${refuse.join(",")}): ${c.reason}`);
  if (failing.length) process.exitCode = EXIT.policy;
}

export function registerReport(program: Command): void {
  program
    .command("report <runId>")
    .description("the report of a run: adoption verdicts (eval), attack rates (redteam) or throughput and latency (bench)")
    .addOption(storeConfigOption("read"))
    .option("--baseline <id>", "compare against this model instead of the run's baseline")
    .option("--format <format>", "html | md | json | github (short Markdown for $GITHUB_STEP_SUMMARY or a PR comment)", "html")
    .option("-o, --out <file>", "write to this file (default: stdout for md/json, report-RUNID.html for html)")
    .option("--min-quality <ratio>", "adopt only if the quality ratio's lower 95% bound reaches this (default 0.9)", positiveNumber)
    .option("--scan <files>", "add artifact vetting from `weightbridge scan --format json` reports (comma-separated)", list)
    .option("--max-cost-ratio <ratio>", "adopt only if candidate cost / baseline cost is at most this (default 0.5)", positiveNumber)
    .option("--max-error-rate <share>", "verdict ERROR when a candidate's or the baseline's failed requests exceed this share (default 0.05)", fraction)
    .option("--fail-on <verdicts>", "exit 1 when any candidate's verdict is one of these (reject,inconclusive,incomplete,error,adopt)", failOn)
    .addHelpText(
      "after",
      `
Criteria can also be set in the config:  report: { criteria: { minQualityRatio: 0.9, maxCostRatio: 0.5, maxErrorRate: 0.05 } }
Verdicts: ADOPT, REJECT, INCONCLUSIVE, and before any quality judgement INCOMPLETE (the run did not finish)
and ERROR (too many failed requests). Red-team and bench runs get their own report, without verdicts.

Examples:
  weightbridge report 20261128-101500Z-ab12 -c weightbridge.yaml                 # report-<run>.html
  weightbridge report 20261128-1015 --format md -o report.md
  weightbridge report latest --format github >> "$GITHUB_STEP_SUMMARY"          # latest: the newest run
  weightbridge report 20261128-1015 --format json --baseline gpt-4o | jq '.candidates'
  weightbridge report 20261128-1015 --min-quality 0.95 --max-cost-ratio 0.3 --fail-on reject,inconclusive,error   # CI gate
  weightbridge scan ./models/qwen3 --format json -o scan.json && weightbridge report 20261128-1015 --scan scan.json`,
    )
    .action(async (runId: string, o: ReportFlags) => {
      if (!["html", "md", "json", "github"].includes(o.format)) throw new UserError(`--format must be html, md, json or github (got "${o.format}")`);
      const [{ openStoreFor, resolveRun }, { loadConfigOnly }, rep] = await Promise.all([
        import("../evaluate/index.js"),
        import("../config/index.js"),
        import("../report/index.js"),
      ]);
      const artifacts = (o.scan ?? []).map((f) => rep.loadScanSummary(f));
      // Criteria come from the config, unless only WEIGHTBRIDGE_DATABASE_URL says where the store is.
      const fromConfig = o.config || !process.env.WEIGHTBRIDGE_DATABASE_URL ? loadConfigOnly(o.config).config.report?.criteria : undefined;
      const { store } = await openStoreFor(o.config);
      try {
        const run = await resolveRun(store, runId);
        if (run.kind === "bench") {
          const b = await rep.buildBenchReport(store, run);
          return emit(o.format, o.out, run.id, { json: b, md: () => rep.renderBenchMarkdown(b), html: () => rep.renderBenchHtml(b) });
        }
        if (run.kind === "redteam") {
          const t = await rep.buildRedteamReport(store, run);
          return emit(o.format, o.out, run.id, { json: t, md: () => rep.renderRedteamMarkdown(t), html: () => rep.renderRedteamHtml(t) });
        }
        if (run.kind !== "eval" && run.kind !== "shadow")
          throw new UserError(`run ${run.id} is a ${run.kind} run; it has no report`, "`weightbridge runs show RUN` shows what it stored");
        const built = await rep.buildReport(store, run.id, {
          ...(o.baseline ? { baseline: o.baseline } : {}),
          criteria: {
            ...(fromConfig?.minQualityRatio !== undefined ? { minQualityRatio: fromConfig.minQualityRatio } : {}),
            ...(fromConfig?.maxCostRatio !== undefined ? { maxCostRatio: fromConfig.maxCostRatio } : {}),
            ...(fromConfig?.maxErrorRate !== undefined ? { maxErrorRate: fromConfig.maxErrorRate } : {}),
            ...(o.minQuality !== undefined ? { minQualityRatio: o.minQuality } : {}),
            ...(o.maxCostRatio !== undefined ? { maxCostRatio: o.maxCostRatio } : {}),
            ...(o.maxErrorRate !== undefined ? { maxErrorRate: o.maxErrorRate } : {}),
          },
        });
        const report = artifacts.length ? { ...built, artifacts } : built;
        emit(o.format, o.out, report.runId, {
          json: report,
          md: () => rep.renderMarkdown(report),
          html: () => rep.renderHtml(report),
          github: () => rep.renderGithub(report),
        });
        process.exitCode = EXIT.ok;
        gate(report, o.failOn);
      } finally {
        await store.close();
      }
    });
}
