/**
 * Where a request goes: the route's policy decision for the classes found (policy.ts), minus the
 * deployments cooling down after a 429/503 with Retry-After. When every target the data may reach
 * is cooling down, the caller is told to wait for the shortest of them instead of being sent on.
 */
import type { Deployment, Route } from "./config.js";
import { type Decision, decide } from "./policy.js";

export type Target = { deployment: Deployment; redact: string[] };
export type Routing =
  | { action: "block"; classes: string[]; reason: string }
  | { action: "wait"; retryAfterMs: number }
  | { action: Exclude<Decision["action"], "block">; targets: Target[] };

export class Router {
  private readonly coolingUntil = new Map<string, number>();

  constructor(private readonly deployments: readonly Deployment[]) {}

  route(route: Route, classes: readonly string[], now = Date.now()): Routing {
    const d = decide(route, this.deployments, classes);
    if (d.action === "block") return d;
    const ready = d.targets.filter((t) => (this.coolingUntil.get(t.deployment.id) ?? 0) <= now);
    if (ready.length > 0) return { action: d.action, targets: ready };
    return { action: "wait", retryAfterMs: Math.min(...d.targets.map((t) => (this.coolingUntil.get(t.deployment.id) ?? now) - now)) };
  }

  /** A deployment asked us to wait (429/503 with Retry-After); bounded at 10 minutes. */
  coolDown(deploymentId: string, ms: number, now = Date.now()): void {
    this.coolingUntil.set(deploymentId, now + Math.min(ms, 600_000));
  }
}
