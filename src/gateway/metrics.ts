/** Prometheus metrics for the gateway (prom-client), fed from the same rows as the audit trail. */
import { Counter, Histogram, Registry } from "prom-client";
import type { AuditRow } from "../store/gateway.js";

export interface GatewayMetrics {
  registry: Registry;
  observe(row: AuditRow): void;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "weightbridge_gateway_requests_total",
    help: "Requests by route, deployment, action and HTTP status",
    labelNames: ["route", "deployment", "action", "status"],
    registers: [registry],
  });
  const classes = new Counter({
    name: "weightbridge_gateway_sensitive_entities_total",
    help: "Sensitive entities found in requests, by class and action",
    labelNames: ["class", "action"],
    registers: [registry],
  });
  const tokens = new Counter({
    name: "weightbridge_gateway_tokens_total",
    help: "Metered tokens by deployment and direction",
    labelNames: ["deployment", "direction"],
    registers: [registry],
  });
  const cost = new Counter({
    name: "weightbridge_gateway_cost_usd_total",
    help: "Metered cost in USD by deployment and key",
    labelNames: ["deployment", "key"],
    registers: [registry],
  });
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
      requests.inc({ route: r.route ?? "", deployment: r.deployment ?? "", action: r.action, status: String(r.status) });
      for (const [k, v] of Object.entries(r.classes)) classes.inc({ class: k, action: r.action }, v);
      if (r.deployment && r.input_tokens !== null) tokens.inc({ deployment: r.deployment, direction: "input" }, r.input_tokens);
      if (r.deployment && r.output_tokens !== null) tokens.inc({ deployment: r.deployment, direction: "output" }, r.output_tokens);
      if (r.deployment && r.cost_pusd) cost.inc({ deployment: r.deployment, key: r.key_name ?? "" }, r.cost_pusd / 1e12);
      if (r.latency_ms !== null) latency.observe({ route: r.route ?? "", action: r.action }, r.latency_ms / 1000);
    },
  };
}
