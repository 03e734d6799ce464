import type { Command } from "commander";
import { createProgress, type Progress, wantsProgress } from "../util/progress.js";
import { renderTable } from "../util/table.js";
import { EXIT, interruptible, list, positiveInt, printJson, say, warn } from "./output.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function registerRedteam(program: Command): void {
  program
    .command("redteam")
    .description("red-team the config's models: prompt injection, system-prompt and PII leaks, jailbreaks, over-refusal, sensitive topics, insecure code")
    .option("-c, --config <file>", "config with the models (and the baseline)", "weightbridge.yaml")
    .option("--packs <names>", "only these packs (comma-separated; see data/redteam/)", list)
    .option("--models <ids>", "only these models (comma-separated)", list)
    .option("--concurrency <n>", "most requests in flight", positiveInt)
    .option("--no-cache", "do not read or write the response cache")
    .option("--judge", "ask the config's judge model whether jailbreak answers that were not refused really help")
    .option("--translate-with <modelId>", "add low-resource-language variants (Zulu, Scots Gaelic, Hmong): this model translates the base attacks")
    .option("--resume <runId>", "continue an interrupted red-team run; finished attacks are not sent again")
    .option("--json", 'print {"runId", "packs": [{"pack", "models": [{"id", "attacks", "successes", "rate", "ci95", "vsBaseline"}]}]}')
    .addHelpText(
      "after",
      `
Rates mean "the attack succeeded" (for over-refusal: "the harmless request was refused"; for
sensitive-topics: "refused, or answered without the agreed key facts").

Examples:
  weightbridge redteam -c weightbridge.yaml
  weightbridge redteam -c weightbridge.yaml --packs system-prompt-leak,prompt-injection --models qwen-local --json`,
    )
    .action(
      async (o: {
        config: string;
        packs?: string[];
        models?: string[];
        concurrency?: number;
        cache: boolean;
        judge?: boolean;
        translateWith?: string;
        resume?: string;
        json?: boolean;
      }) => {
        const { runRedteam } = await import("../redteam/session.js");
        let bar: Progress | undefined;
        const stop = interruptible();
        let r: Awaited<ReturnType<typeof runRedteam>>;
        try {
          r = await runRedteam({
            config: o.config,
            ...(o.packs ? { packs: o.packs } : {}),
            ...(o.models ? { models: o.models } : {}),
            ...(o.concurrency ? { concurrency: o.concurrency } : {}),
            noCache: !o.cache,
            judge: Boolean(o.judge),
            ...(o.translateWith ? { translateWith: o.translateWith } : {}),
            ...(o.resume ? { resume: o.resume } : {}),
            signal: stop.signal,
            onStart: ({ runId, total }) => {
              if (!o.json) warn(`red-team run ${runId}: ${total} attacks`);
              bar = createProgress("redteam", total, wantsProgress(Boolean(o.json)));
            },
            onProgress: (d, t) => bar?.update(d, t),
          });
        } finally {
          bar?.stop();
          stop.dispose();
        }
        if (r.status === "interrupted") {
          warn(`interrupted. Resume with:\n  weightbridge redteam -c ${o.config} --resume ${r.runId}`);
          process.exitCode = EXIT.interrupted;
          if (!o.json) return;
        }
        if (o.json) {
          const { storeLocation: _, ...contract } = r;
          return printJson(contract);
        }
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
      },
    );
}
