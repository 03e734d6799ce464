/** Gateway traffic from the audit table, refreshed every 5 s while the page is open (live while the gateway runs). */
import { TimeChart } from "../charts.js";
import { href, navigate, useLocation } from "../router.js";
import { msf, usd, when } from "../text.js";
import { Card, Exports, Failure, Loading, Text } from "../ui.js";
import { useApi } from "../use-api.js";

interface Traffic {
  since: string;
  requests: number;
  truncated: boolean;
  series: {
    t: string;
    requests: number;
    actions: Record<string, number>;
    classes: Record<string, number>;
    errors: number;
    latencyP50Ms: number | null;
    latencyP95Ms: number | null;
    costUsd: number;
  }[];
  byKey: { name: string; requests: number; costUsd: number; blocked: number; errors: number }[];
  byDeployment: { name: string; requests: number; costUsd: number; blocked: number; errors: number }[];
}
interface Audit {
  rows: {
    id: string;
    time: string;
    key_name: string | null;
    route: string | null;
    deployment: string | null;
    action: string;
    status: number;
    classes: Record<string, number>;
    latency_ms: number | null;
    costUsd: number | null;
  }[];
}

const PAD: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };
const toEpoch = (t: string) => Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t.length === 13 ? `${t}:00:00Z` : `${t}:00Z`) / 1000;

function Totals({ title, rows }: { title: string; rows: Traffic["byKey"] }) {
  return (
    <Card title={title}>
      <table class="grid">
        <thead>
          <tr>
            <th>name</th>
            <th class="num">requests</th>
            <th class="num">blocked</th>
            <th class="num">errors</th>
            <th class="num">spend</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <td>
                <Text value={r.name} />
              </td>
              <td class="num">{r.requests}</td>
              <td class="num">{r.blocked}</td>
              <td class="num">{r.errors}</td>
              <td class="num">{usd(r.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

/** The page: a bucket filter, the traffic charts, totals per key and deployment, the latest requests; both reads refresh every 5 s. */
export function GatewayPage() {
  const { query } = useLocation();
  const bucket = query.get("bucket") ?? "hour";
  const action = query.get("action") ?? undefined;
  const t = useApi<Traffic>("/gateway/traffic", { bucket }, 5000);
  const a = useApi<Audit>("/gateway/audit", { action, limit: 100 }, 5000);
  const s = t.data?.series ?? [];
  return (
    <div>
      <h1>Gateway traffic</h1>
      <BucketFilter bucket={bucket} action={action} traffic={t.data} />
      <Failure error={t.error} />
      <Loading on={t.loading && !t.data} />
      {t.data && t.data.requests === 0 && <p class="muted">No gateway traffic in the store yet: run `weightbridge gateway` with this store.</p>}
      {s.length > 0 && <TrafficCharts series={s} pad={PAD[bucket] ?? 3600} />}
      {t.data && (
        <div class="row">
          <Totals title="Per key" rows={t.data.byKey} />
          <Totals title="Per deployment" rows={t.data.byDeployment} />
        </div>
      )}
      <Card title="Latest requests">
        <Exports path="/gateway/audit" params={{ action }} />
        <AuditTable rows={a.data?.rows} bucket={bucket} />
      </Card>
    </div>
  );
}

function BucketFilter({ bucket, action, traffic }: { bucket: string; action: string | undefined; traffic: Traffic | undefined }) {
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <select aria-label="bucket" value={bucket} onChange={(e) => navigate(href("/gateway", { bucket: (e.target as HTMLSelectElement).value, action }), true)}>
        {["minute", "hour", "day"].map((b) => (
          <option value={b}>per {b}</option>
        ))}
      </select>
      <span class="muted">
        {traffic ? `${traffic.requests} requests since ${when(traffic.since)}${traffic.truncated ? " (newest rows only)" : ""}` : ""} · refreshes every 5 s
      </span>
    </form>
  );
}

/** Requests by action, sensitive classes found and latency, per time bucket. */
function TrafficCharts({ series: s, pad }: { series: Traffic["series"]; pad: number }) {
  const actions = [...new Set(s.flatMap((b) => Object.keys(b.actions)))].sort();
  const classes = [...new Set(s.flatMap((b) => Object.keys(b.classes)))].sort();
  const x = s.map((b) => toEpoch(b.t));
  return (
    <div class="row">
      <Card title="Requests by action">
        <TimeChart pad={pad} x={x} yLabel="requests" series={actions.map((k) => ({ label: k, values: s.map((b) => b.actions[k] ?? 0) }))} />
      </Card>
      <Card title="Sensitive classes found">
        <TimeChart pad={pad} x={x} yLabel="found" series={classes.map((k) => ({ label: k, values: s.map((b) => b.classes[k] ?? 0) }))} />
      </Card>
      <Card title="Latency">
        <TimeChart
          pad={pad}
          x={x}
          yLabel="ms"
          series={[
            { label: "p50", values: s.map((b) => b.latencyP50Ms) },
            { label: "p95", values: s.map((b) => b.latencyP95Ms) },
          ]}
        />
      </Card>
    </div>
  );
}

function AuditTable({ rows, bucket }: { rows: Audit["rows"] | undefined; bucket: string }) {
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>time</th>
          <th>key</th>
          <th>route</th>
          <th>deployment</th>
          <th>action</th>
          <th class="num">status</th>
          <th>classes</th>
          <th class="num">latency</th>
          <th class="num">cost</th>
        </tr>
      </thead>
      <tbody>
        {rows?.map((r) => (
          <tr key={r.id}>
            <td>{when(r.time)}</td>
            <td>
              <Text value={r.key_name} />
            </td>
            <td>
              <Text value={r.route} />
            </td>
            <td>
              <Text value={r.deployment} />
            </td>
            <td>
              <a href={href("/gateway", { bucket, action: r.action })}>{r.action}</a>
            </td>
            <td class="num">{r.status}</td>
            <td>
              <Text
                value={Object.entries(r.classes)
                  .map(([k, v]) => `${k}×${v}`)
                  .join(" ")}
              />
            </td>
            <td class="num">{msf(r.latency_ms)}</td>
            <td class="num">{usd(r.costUsd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
