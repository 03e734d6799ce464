/** Shadow mode and capture (issue 20): the public face used by the CLI. */
import { UserError } from "../../util/errors.js";
import type { GatewayConfig } from "../config.js";

export { buildShadowReport, type ShadowCandidate, type ShadowReport, summariseCandidate } from "./report.js";
export { parseSince } from "./since.js";

/** The route named, or the only route with `shadow:` (or `capture:` when `what` is "capture"). */
export function pickShadowRoute(config: GatewayConfig, name: string | undefined, what: "shadow" | "capture" = "shadow"): string {
  const names = config.routes.map((r) => r.model);
  if (name !== undefined) {
    if (!names.includes(name)) throw new UserError(`--route: no route "${name}"`, `routes: ${names.join(", ")}`);
    return name;
  }
  const with_ = config.routes.filter((r) => r[what]);
  if (with_.length === 1) return (with_[0] as { model: string }).model;
  throw new UserError(
    with_.length === 0 ? `no route of the config has ${what}:` : `several routes have ${what}: (${with_.map((r) => r.model).join(", ")})`,
    with_.length === 0 ? `add ${what}: to a route (docs/gateway.md)` : "name one with --route",
  );
}
export { type FromTrafficOptions, suiteFromTraffic, suiteYaml, type TrafficSuite } from "./from-traffic.js";
