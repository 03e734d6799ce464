/**
 * Which shadow deployments may receive a request, decided exactly as for primary targets: the
 * route's policy (policy.ts) applied to each shadow deployment as if it were the route's only
 * target. Reroute: a deployment that does not accept every class found is skipped; redact: it gets
 * the request with the classes it does not accept replaced; block: a request with classes was never
 * answered, so nothing is mirrored. Pure.
 */
import type { Deployment, Route } from "../config.js";
import { decide } from "../policy.js";

export type ShadowTarget = { deployment: Deployment; redact: string[] } | { deployment: Deployment; skipped: string };

export function shadowTargets(route: Route, deployments: readonly Deployment[], classes: readonly string[]): ShadowTarget[] {
  const out: ShadowTarget[] = [];
  for (const id of route.shadow?.targets ?? []) {
    const deployment = deployments.find((d) => d.id === id);
    if (!deployment) continue;
    const d = decide({ ...route, targets: [id] }, deployments, classes);
    if (d.action === "block") out.push({ deployment, skipped: d.reason });
    else out.push({ deployment, redact: d.targets[0]?.redact ?? [] });
  }
  return out;
}
