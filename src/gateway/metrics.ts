/**
 * Prometheus metrics for the gateway (prom-client), fed from the same rows as the audit trail.
 * Counters are summed in plain maps per request and handed to prom-client when scraped (its label
 * hashing and validation on every increment cost ~4 µs a request); the latency histogram observes
 * directly.
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { AuditRow } from "../records/index.js";

export interface GatewayMetrics {
  registry: Registry;
  observe(row: AuditRow): void;
}

type Labels = Record<string, string>;

/** A counter whose totals are kept here and published at scrape time. */
function lazyCounter(registry: Registry, name: string, help: string, labelNames: string[]) {
  const totals = new Map<string, { labels: Labels; value: number }>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const t of totals.values()) this.inc(t.labels, t.value);
    },
  });
  return (values: string[], by = 1) => {
    const key = values.join("\u0000");
    const t = totals.get(key);
    if (t) t.value += by;
    else totals.set(key, { labels: Object.fromEntries(labelNames.map((l, i) => [l, values[i] as string])), value: by });
  };
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  const requests = lazyCounter(registry, "weightbridge_gateway_requests_total", "Requests by route, deployment, action and HTTP status", [
    "route",
    "deployment",
    "action",
    "status",
  ]);
  const classes = lazyCounter(registry, "weightbridge_gateway_sensitive_entities_total", "Sensitive entities found in requests, by class and action", [
    "class",
    "action",
  ]);
  const tokens = lazyCounter(registry, "weightbridge_gateway_tokens_total", "Metered tokens by deployment and direction", ["deployment", "direction"]);
  const cost = lazyCounter(registry, "weightbridge_gateway_cost_usd_total", "Metered cost in USD by deployment and key", ["deployment", "key"]);
  const latency = new Histogram({
    name: "weightbridge_gateway_request_duration_seconds",
    help: "Request latency through the gateway",
    labelNames: ["route", "action"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    observe(r) {
      requests([r.route ?? "", r.deployment ?? "", r.action, String(r.status)]);
      for (const k in r.classes) classes([k, r.action], r.classes[k]);
      if (r.deployment && r.input_tokens !== null) tokens([r.deployment, "input"], r.input_tokens);
      if (r.deployment && r.output_tokens !== null) tokens([r.deployment, "output"], r.output_tokens);
      if (r.deployment && r.cost_pusd) cost([r.deployment, r.key_name ?? ""], r.cost_pusd / 1e12);
      if (r.latency_ms !== null) latency.observe({ route: r.route ?? "", action: r.action }, r.latency_ms / 1000);
    },
  };
}
