/**
 * /api/v1/gateway/*: gateway traffic from the audit table. `traffic` buckets requests over time
 * (per minute, hour or day: the ISO time's prefix, so the `time` index serves the range) with
 * actions, classes found, errors, latency and spend, plus totals per key and per deployment;
 * `audit` pages the rows themselves.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { quantile } from "../../stats/index.js";
import type { StoreHandle } from "../../store/index.js";
import { sendTable } from "./export.js";
import { parseQuery } from "./http.js";

const iso = z.string().regex(/^\d{4}-\d\d-\d\d(T[\d:.]+Z?)?$/, "an ISO-8601 time");
const TrafficQuery = z.object({
  since: iso.optional(),
  bucket: z.enum(["minute", "hour", "day"]).default("hour"),
});
const AuditQuery = z.object({
  since: iso.optional(),
  key: z.string().max(200).optional(),
  deployment: z.string().max(200).optional(),
  action: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(["json", "csv", "jsonl"]).default("json"),
});
const PREFIX = { minute: 16, hour: 13, day: 10 } as const;
/** Rows read for one traffic answer at most; older rows are left out and `truncated` says so. */
const MAX_ROWS = 200_000;

interface Bucket {
  t: string;
  requests: number;
  actions: Record<string, number>;
  classes: Record<string, number>;
  errors: number;
  latencies: number[];
  costUsd: number;
}

function addCounts(into: Record<string, number>, json: string | null): void {
  if (!json) return;
  for (const [k, v] of Object.entries(JSON.parse(json) as Record<string, number>)) into[k] = (into[k] ?? 0) + (Number(v) || 0);
}

export function registerGatewayRoutes(app: FastifyInstance, store: StoreHandle): void {
  app.get("/api/v1/gateway/traffic", async (req) => {
    const p = parseQuery(TrafficQuery, req.query);
    const since = p.since ?? new Date(Date.now() - 7 * 86_400_000).toISOString();
    const rows = await store.db
      .selectFrom("gateway_audit")
      .select(["time", "key_name", "deployment", "classes_json", "action", "status", "cost_pusd", "latency_ms"])
      .where("time", ">=", since)
      .orderBy("time", "desc")
      .limit(MAX_ROWS + 1)
      .execute();
    const truncated = rows.length > MAX_ROWS;
    const buckets = new Map<string, Bucket>();
    const per = {
      key: new Map<string, { requests: number; costUsd: number; blocked: number; errors: number }>(),
      deployment: new Map<string, { requests: number; costUsd: number; blocked: number; errors: number }>(),
    };
    for (const r of rows.slice(0, MAX_ROWS)) {
      const t = r.time.slice(0, PREFIX[p.bucket]);
      const b = buckets.get(t) ?? { t, requests: 0, actions: {}, classes: {}, errors: 0, latencies: [], costUsd: 0 };
      buckets.set(t, b);
      const cost = r.cost_pusd === null ? 0 : Number(r.cost_pusd) / 1e12;
      const error = r.status >= 500 || r.action === "failed";
      b.requests++;
      b.actions[r.action] = (b.actions[r.action] ?? 0) + 1;
      addCounts(b.classes, r.classes_json);
      if (error) b.errors++;
      if (r.latency_ms !== null) b.latencies.push(r.latency_ms);
      b.costUsd += cost;
      for (const [map, k] of [
        [per.key, r.key_name ?? "(none)"],
        [per.deployment, r.deployment ?? "(none)"],
      ] as const) {
        const e = map.get(k) ?? { requests: 0, costUsd: 0, blocked: 0, errors: 0 };
        e.requests++;
        e.costUsd += cost;
        if (r.action === "blocked") e.blocked++;
        if (error) e.errors++;
        map.set(k, e);
      }
    }
    const series = [...buckets.values()]
      .sort((a, b) => (a.t < b.t ? -1 : 1))
      .map(({ latencies, ...b }) => ({
        ...b,
        latencyP50Ms: latencies.length ? quantile(latencies, 0.5) : null,
        latencyP95Ms: latencies.length ? quantile(latencies, 0.95) : null,
      }));
    const list = (m: Map<string, object>) => [...m].map(([name, v]) => ({ name, ...v }));
    return { since, bucket: p.bucket, truncated, requests: Math.min(rows.length, MAX_ROWS), series, byKey: list(per.key), byDeployment: list(per.deployment) };
  });

  app.get("/api/v1/gateway/audit", async (req, reply) => {
    const p = parseQuery(AuditQuery, req.query);
    let q = store.db.selectFrom("gateway_audit").selectAll();
    if (p.since) q = q.where("time", ">=", p.since);
    if (p.key) q = q.where("key_name", "=", p.key);
    if (p.deployment) q = q.where("deployment", "=", p.deployment);
    if (p.action) q = q.where("action", "=", p.action);
    const rows = await q.orderBy("time", "desc").orderBy("id", "desc").limit(p.limit).offset(p.offset).execute();
    const list = rows.map(({ classes_json, response_classes_json, attempts_json, cost_pusd, ...r }) => ({
      ...r,
      costUsd: cost_pusd === null ? null : Number(cost_pusd) / 1e12,
      classes: JSON.parse(classes_json) as Record<string, number>,
      responseClasses: response_classes_json ? (JSON.parse(response_classes_json) as Record<string, number>) : null,
      attempts: attempts_json ? (JSON.parse(attempts_json) as unknown[]) : null,
    }));
    return sendTable(reply, p.format, "gateway-audit", { offset: p.offset, rows: list }, list);
  });
}
