/**
 * Where a request may go, given the data classes found in it. Pure. Fallbacks only ever go to a
 * target the data may reach: reroute keeps the targets that accept every class found; redact
 * sends each target the request with the classes it does not accept replaced.
 */
import type { Deployment, Route } from "./config.js";

export type Decision =
  | { action: "accept"; targets: { deployment: Deployment; redact: string[] }[] }
  | { action: "reroute"; targets: { deployment: Deployment; redact: string[] }[]; classes: string[] }
  | { action: "redact"; targets: { deployment: Deployment; redact: string[] }[]; classes: string[] }
  | { action: "block"; classes: string[]; reason: string };

/** SECRET reaches a deployment only when it names SECRET; every other class likewise needs to be listed. */
function accepts(d: Deployment, cls: string): boolean {
  return d.accepts.includes(cls);
}

export function decide(route: Route, deployments: readonly Deployment[], found: readonly string[]): Decision {
  const classes = [...new Set(found)].sort();
  const targets = route.targets.map((id) => deployments.find((d) => d.id === id)).filter((d): d is Deployment => d !== undefined);
  if (classes.length === 0) return { action: "accept", targets: targets.map((deployment) => ({ deployment, redact: [] })) };
  switch (route.onSensitive) {
    case "block":
      return { action: "block", classes, reason: `the request contains ${classes.join(", ")} and route "${route.model}" blocks sensitive data` };
    case "reroute": {
      const ok = targets.filter((d) => classes.every((c) => accepts(d, c)));
      if (ok.length === 0) return { action: "block", classes, reason: `no deployment of route "${route.model}" may receive ${classes.join(", ")}` };
      return { action: "reroute", targets: ok.map((deployment) => ({ deployment, redact: [] })), classes };
    }
    case "redact":
      return { action: "redact", targets: targets.map((deployment) => ({ deployment, redact: classes.filter((c) => !accepts(deployment, c)) })), classes };
  }
}
