/** `weightbridge plan`: how many cases would decide adopt/reject at a margin, and what they would cost. */
import type { Command } from "commander";
import { renderTable } from "../util/table.js";
import { fraction, printJson, say, share } from "./output.js";

interface PlanFlags {
  config: string;
  from?: string;
  margin?: number;
  power: number;
  baselineAccuracy?: number;
  candidateAccuracy?: number;
  discordance?: number;
  json?: boolean;
}

const usd = (x: number | null) => (x === null ? "—" : x < 0.01 ? `$${x.toFixed(5)}` : `$${x.toFixed(2)}`);

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("how many cases it takes to decide adopt/reject at the margin (from a pilot run or stated assumptions), and the cost")
    .option("-c, --config <file>", "config (its store holds the pilot run; its report.criteria.minQualityRatio is the default margin)", "weightbridge.yaml")
    .option("--from <runId>", "a pilot eval run: its pass rates, disagreements, tokens and prices")
    .option("--margin <ratio>", "quality ratio a candidate must reach (default: config criteria or 0.9)", share)
    .option("--power <p>", "chance the planned run decides", share, 0.8)
    .option("--baseline-accuracy <p>", "assumption (without --from): baseline pass rate", fraction)
    .option("--candidate-accuracy <p>", "assumption: candidate pass rate", fraction)
    .option("--discordance <p>", "assumption: share of cases on which the two models disagree", fraction)
    .option("--json", "print the plan as JSON (see docs/json-output.md)")
    .addHelpText(
      "after",
      `
Examples:
  weightbridge plan -c weightbridge.yaml --from 20261128-101500Z-ab12 --margin 0.9 --power 0.8
  weightbridge plan --baseline-accuracy 0.9 --candidate-accuracy 0.88 --discordance 0.1 --margin 0.9 --json`,
    )
    .action(async (o: PlanFlags) => {
      const [{ UserError }, sp] = await Promise.all([import("../util/errors.js"), import("../evaluate/index.js")]);
      const assumed = [o.baselineAccuracy, o.candidateAccuracy, o.discordance];
      let plan: Awaited<ReturnType<typeof sp.planFromSummary>>;
      if (o.from) {
        if (assumed.some((x) => x !== undefined)) throw new UserError("give either --from RUN or the three assumptions, not both");
        const [{ openStoreFor, summariseStoredRun }, { loadConfigOnly }] = await Promise.all([import("../evaluate/index.js"), import("../config/index.js")]);
        const margin = o.margin ?? loadConfigOnly(o.config).config.report?.criteria?.minQualityRatio ?? 0.9;
        const { store } = await openStoreFor(o.config);
        try {
          const { summary } = await summariseStoredRun(store, o.from);
          plan = sp.planFromSummary(summary, margin, o.power);
        } finally {
          await store.close();
        }
      } else {
        if (assumed.some((x) => x === undefined))
          throw new UserError("plan needs a pilot run or assumptions", "pass --from RUN_ID, or --baseline-accuracy, --candidate-accuracy and --discordance");
        const table = sp.tableFromAssumptions(o.candidateAccuracy as number, o.baselineAccuracy as number, o.discordance as number);
        plan = sp.planFromAssumptions(table, o.margin ?? 0.9, o.power);
      }
      if (o.json) return printJson(plan);
      say(
        `Cases to decide at the ${Math.round(plan.margin * 100)}% margin with ${Math.round(plan.power * 100)}% power${plan.runId ? ` (pilot run ${plan.runId})` : " (stated assumptions)"}:`,
      );
      for (const s of plan.suites) {
        const rows = s.candidates.map((c) => [
          c.id,
          Number.isFinite(c.ratio) ? `${(c.ratio * 100).toFixed(1)}%` : "—",
          c.cases === null ? "no n decides" : String(c.cases),
          c.note ?? (c.direction === "undecidable" ? "estimate on the margin" : `expected: ${c.direction}`),
        ]);
        say(
          `Suite ${s.name}${s.pilotCases !== null ? ` (pilot: ${s.pilotCases} cases)` : ""}: ${s.casesNeeded === null ? "not every candidate can be decided" : `${s.casesNeeded} cases`}`,
        );
        say(renderTable(["candidate", "ratio", "cases needed", "note"], rows));
        if (s.cost.length && s.casesNeeded !== null)
          say(
            renderTable(
              ["model", "per case", `${s.casesNeeded} cases`],
              s.cost.map((c) => [c.model, usd(c.usdPerCase), usd(c.usd)]),
            ),
          );
        say("");
      }
    });
}
