/** `weightbridge suite from-traffic`: a suite from a gateway route's captured requests (docs/gateway.md#capture). */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { positiveInt, say, writeOutput } from "./output.js";
import { gatewayConfigOption } from "./store-access.js";

function stratum(v: string): "classes" {
  if (v !== "classes") throw new InvalidArgumentError('only "classes" (the data classes found in each request)');
  return v;
}

export function registerSuite(program: Command): void {
  const suite = program.command("suite").description("build suites").enablePositionalOptions();
  suite
    .command("from-traffic")
    .description("a suite from a route's captured requests: each case expects agreement with the answer the primary gave (or an llm-judge rubric)")
    .addOption(gatewayConfigOption())
    .option("--route <model>", "the route (default: the only route with capture:)")
    .option("--since <when>", 'window start: "7d", "24h", "30m" or a date', "7d")
    .option("--limit <n>", "at most this many cases (a seeded sample)", positiveInt, 500)
    .option("--stratify-by <what>", "sample each group of requests in proportion: classes", stratum)
    .option("--judge <rubric>", "grade with llm-judge and this rubric (the recorded answer as reference) instead of equals")
    .option("--seed <n>", "sampling seed", positiveInt, 1)
    .requiredOption("-o, --output <file>", "suite file to write (YAML)")
    .action(
      async (o: { config: string; route?: string; since: string; limit: number; stratifyBy?: "classes"; judge?: string; seed: number; output: string }) => {
        const [{ openGatewayStore }, { parseSince, pickShadowRoute, suiteFromTraffic, suiteYaml }, { loadCaptures }, { UserError }] = await Promise.all([
          import("./gateway.js"),
          import("../gateway/index.js"),
          import("../store/index.js"),
          import("../util/errors.js"),
        ]);
        const since = parseSince(o.since);
        const { config, store } = await openGatewayStore(o.config);
        try {
          const route = pickShadowRoute(config, o.route, "capture");
          const rows = await loadCaptures(store.db, route, since);
          const built = suiteFromTraffic(rows, {
            route,
            limit: o.limit,
            seed: o.seed,
            ...(o.stratifyBy ? { stratifyBy: o.stratifyBy } : {}),
            ...(o.judge ? { judge: o.judge } : {}),
          });
          if (built.stats.cases === 0)
            throw new UserError(
              `no usable captured request on route "${route}" since ${since} (${built.stats.captured} captured, ${built.stats.unsupported} not a single user turn of text)`,
              "add capture: { sample: 0.05 } to the route and let traffic through the gateway, or widen --since",
            );
          writeOutput(o.output, suiteYaml(built.suite));
          const s = built.stats;
          say(
            `wrote ${s.cases} cases to ${o.output} (${s.captured} captured, ${s.duplicates} duplicates, ${s.unsupported} left out: more than one user turn or non-text content)`,
          );
        } finally {
          await store.close();
        }
      },
    );
}
