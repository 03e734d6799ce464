/** `weightbridge shadow report`: how a route's shadow candidates compare with its primary on real traffic (docs/gateway.md). */
import type { Command } from "commander";
import { renderTable } from "../util/table.js";
import { EXIT, fraction, printJson, say } from "./output.js";
import { gatewayConfigOption } from "./store-access.js";

export function registerShadow(program: Command): void {
  const shadow = program.command("shadow").description("gateway shadow mode: candidates answering mirrored real traffic").enablePositionalOptions();
  shadow
    .command("report")
    .description("agreement with the primary (95% CI), cost ratio, latency p50, skipped/dropped, verdict and projected monthly saving per candidate")
    .addOption(gatewayConfigOption())
    .option("--route <model>", "the route (default: the only route with shadow:)")
    .option("--since <when>", 'window start: "7d", "24h", "30m" or a date', "7d")
    .option("--min-agreement <share>", "lower 95% bound of agreement needed to adopt", fraction, 0.9)
    .option("--json", 'print {"route", "primary", "candidates": […]} (docs/gateway.md)')
    .action(async (o: { config: string; route?: string; since: string; minAgreement: number; json?: boolean }) => {
      const [{ openGatewayStore }, { buildShadowReport, parseSince, pickShadowRoute }] = await Promise.all([
        import("./gateway.js"),
        import("../gateway/index.js"),
      ]);
      const since = parseSince(o.since);
      const { config, store } = await openGatewayStore(o.config);
      try {
        const route = pickShadowRoute(config, o.route);
        const r = await buildShadowReport(store, config, { route, since, criteria: { minAgreement: o.minAgreement } });
        if (o.json) return printJson(r);
        say(`Shadow report — route ${r.route}, primary ${r.primary}, since ${since}`);
        const f = (x: number | null, d = 1) => (x === null ? "—" : x.toFixed(d));
        const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
        say(
          renderTable(
            [
              "candidate",
              "pairs",
              "agreement (95% CI)",
              "cost ratio",
              "latency p50 ms",
              "skipped (policy)",
              "dropped",
              "failed",
              "missing",
              "saving/month USD (95% CI)",
              "verdict",
            ],
            r.candidates.map((c) => [
              c.id,
              String(c.pairs),
              c.agreement.ci95 ? `${pct(c.agreement.mean)} (${pct(c.agreement.ci95[0])}–${pct(c.agreement.ci95[1])})` : "—",
              f(c.costRatio, 3),
              f(c.latencyP50Ms, 0),
              String(c.skippedByPolicy),
              String(c.dropped),
              String(c.failed),
              String(c.missing),
              c.monthlySaving ? `${f(c.monthlySaving.usd, 2)} (${f(c.monthlySaving.ci95[0], 2)}–${f(c.monthlySaving.ci95[1], 2)})` : "—",
              c.verdict.toUpperCase(),
            ]),
          ),
        );
        for (const c of r.candidates) say(`${c.id}: ${c.reason}`);
        process.exitCode = EXIT.ok;
      } finally {
        await store.close();
      }
    });
}
