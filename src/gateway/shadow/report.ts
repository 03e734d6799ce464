/**
 * `weightbridge shadow report`: a route's shadow pairs over a window, per candidate — agreement with
 * the primary (share of pairs where the shadow answer passed every comparison, with the 95% interval
 * eval uses for pass/fail scores), cost ratio, latency p50 from real traffic, what was skipped by
 * policy or dropped, pairs whose shadow half never came, a verdict, and a projected monthly saving
 * from the route's measured volume. `summariseShadow` is pure; `buildShadowReport` reads the store.
 */

import type { GradeRecord } from "../../records/index.js";
import { estimateMean, quantile } from "../../stats/index.js";
import type { ResultsTable, ShadowCounts, StoreHandle } from "../../store/index.js";
import { loadShadowCounters, loadShadowResults } from "../../store/index.js";
import type { GatewayConfig } from "../config.js";
import { PRIMARY_GRADE } from "./rows.js";

export type ShadowVerdict = "adopt" | "reject" | "inconclusive";

export interface ShadowCandidate {
  id: string;
  /** Mirrored requests with both halves and no error. */
  pairs: number;
  agreement: { mean: number | null; ci95: [number, number] | null };
  /** Shadow cost / primary cost over the pairs (null: a price is missing). */
  costRatio: number | null;
  latencyP50Ms: number | null;
  skippedByPolicy: number;
  dropped: number;
  /** Shadow requests that failed (transport, HTTP status, unscannable answer, comparison error). */
  failed: number;
  /** Primary halves stored whose shadow half never came (gateway stopped or killed first). */
  missing: number;
  verdict: ShadowVerdict;
  reason: string;
  /** (primary − shadow) cost per request × requests per month, USD, with its 95% interval. */
  monthlySaving: { usd: number; ci95: [number, number]; requestsPerMonth: number } | null;
}

export interface ShadowReport {
  route: string;
  primary: string;
  candidates: ShadowCandidate[];
}

export interface ShadowCriteria {
  /** The lower bound of the agreement interval must reach this to adopt. */
  minAgreement: number;
}

const DAY_MS = 86_400_000;
const isPrimary = (r: ResultsTable) => (JSON.parse(r.scores_json) as GradeRecord[])[0]?.type === PRIMARY_GRADE;
const pctText = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The figures of one candidate from a route's stored rows. Pure. */
export function summariseCandidate(
  id: string,
  rows: readonly ResultsTable[],
  counts: ShadowCounts | undefined,
  requestsPerMonth: number | null,
  k: ShadowCriteria,
): ShadowCandidate {
  const primaries = new Map<string, ResultsTable>();
  const expected = new Set<string>();
  for (const r of rows)
    if (isPrimary(r)) {
      const key = `${r.run_id}\u0000${r.case_index}`;
      primaries.set(key, r);
      const shadows = ((JSON.parse(r.scores_json) as GradeRecord[])[0]?.detail?.shadows ?? []) as string[];
      if (shadows.includes(id)) expected.add(key);
    }
  const mine = rows.filter((r) => r.model_id === id && !isPrimary(r));
  const seen = new Set(mine.map((r) => `${r.run_id}\u0000${r.case_index}`));
  const paired = mine.filter((r) => r.error === null && primaries.has(`${r.run_id}\u0000${r.case_index}`));
  const agreement = paired.length ? estimateMean(paired.map((r) => r.passed)) : null;
  const costed = paired.filter((r) => r.cost_pusd !== null && primaries.get(`${r.run_id}\u0000${r.case_index}`)?.cost_pusd != null);
  const primaryCost = (r: ResultsTable) => Number(primaries.get(`${r.run_id}\u0000${r.case_index}`)?.cost_pusd ?? 0);
  const sumPrimary = costed.reduce((a, r) => a + primaryCost(r), 0);
  const sumShadow = costed.reduce((a, r) => a + Number(r.cost_pusd), 0);
  const costRatio = costed.length && sumPrimary > 0 ? sumShadow / sumPrimary : null;
  const latencies = paired.map((r) => r.latency_ms).filter((x): x is number => x !== null);
  const c: ShadowCandidate = {
    id,
    pairs: paired.length,
    agreement: agreement ? { mean: agreement.mean, ci95: agreement.ci95 } : { mean: null, ci95: null },
    costRatio,
    latencyP50Ms: latencies.length ? quantile(latencies, 0.5) : null,
    skippedByPolicy: counts?.skippedByPolicy ?? 0,
    dropped: counts?.dropped ?? 0,
    failed: mine.length - paired.length,
    missing: [...expected].filter((key) => !seen.has(key)).length,
    verdict: "inconclusive",
    reason: "",
    monthlySaving:
      requestsPerMonth === null || costed.length === 0
        ? null
        : monthlySaving(
            costed.map((r) => primaryCost(r) - Number(r.cost_pusd)),
            requestsPerMonth,
          ),
  };
  return { ...c, ...verdictOf(c, k) };
}

/** Mean saving per request with its interval (eval's methods), scaled to a month of the route's volume. */
function monthlySaving(savingsPusd: number[], requestsPerMonth: number): NonNullable<ShadowCandidate["monthlySaving"]> {
  const same = savingsPusd.every((s) => s === savingsPusd[0]);
  const est = same ? { mean: savingsPusd[0] as number, ci95: [savingsPusd[0], savingsPusd[0]] as [number, number] } : estimateMean(savingsPusd);
  const usd = (p: number) => (p * requestsPerMonth) / 1e12;
  return { usd: usd(est.mean), ci95: [usd(est.ci95[0]), usd(est.ci95[1])], requestsPerMonth };
}

function verdictOf(c: ShadowCandidate, k: ShadowCriteria): { verdict: ShadowVerdict; reason: string } {
  const attempts = c.pairs + c.failed;
  if (c.pairs === 0 || c.agreement.ci95 === null || c.agreement.mean === null)
    return { verdict: "inconclusive", reason: `No complete pairs for ${c.id} yet${c.skippedByPolicy ? ` (${c.skippedByPolicy} skipped by policy)` : ""}.` };
  if (attempts > 0 && c.failed / attempts > 0.05)
    return { verdict: "reject", reason: `${c.id} failed ${c.failed} of ${attempts} mirrored requests (${pctText(c.failed / attempts)}).` };
  const [lo, hi] = c.agreement.ci95;
  const a = `${c.id} agrees with the primary on ${pctText(c.agreement.mean)} of ${c.pairs} pairs (95% CI ${pctText(lo)}–${pctText(hi)})`;
  if (hi < k.minAgreement) return { verdict: "reject", reason: `${a}: even the upper bound is below the required ${pctText(k.minAgreement)}.` };
  if (lo < k.minAgreement)
    return { verdict: "inconclusive", reason: `${a}: the interval still includes the required ${pctText(k.minAgreement)}; mirror more traffic.` };
  if (c.costRatio === null) return { verdict: "inconclusive", reason: `${a}, but its cost is unknown: give both deployments a price.` };
  if (c.costRatio >= 1) return { verdict: "reject", reason: `${a}, but it costs ${pctText(c.costRatio)} of the primary.` };
  return { verdict: "adopt", reason: `${a} at ${pctText(c.costRatio)} of the cost.` };
}

/** Requests the route served (answered 2xx by a primary target) since `since`, per month: volume over max(first request → now, 1 day). */
async function requestsPerMonth(store: StoreHandle, route: string, since: string, now: number): Promise<number | null> {
  const r = await store.db
    .selectFrom("gateway_audit")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.min("time").as("first")])
    .where("route", "=", route)
    .where("action", "in", ["accepted", "rerouted", "redacted"])
    .where("status", "<", 300)
    .where("time", ">=", since)
    .executeTakeFirst();
  const n = Number(r?.n ?? 0);
  if (!n || !r?.first) return null;
  const span = Math.max(now - Date.parse(String(r.first)), DAY_MS);
  return (n * 30 * DAY_MS) / span;
}

export async function buildShadowReport(
  store: StoreHandle,
  config: GatewayConfig,
  o: { route: string; since: string; criteria: ShadowCriteria; now?: number },
): Promise<ShadowReport> {
  const route = config.routes.find((r) => r.model === o.route);
  const runs = (await store.db.selectFrom("runs").select(["id", "plan_json"]).where("kind", "=", "shadow").execute()).filter(
    (r) => (JSON.parse(r.plan_json) as { route?: string }).route === o.route,
  );
  const ids = runs.map((r) => r.id);
  const rows = await loadShadowResults(store.db, ids, o.since);
  const inWindow = new Set(rows.map((r) => r.run_id));
  const counters = await loadShadowCounters(
    store.db,
    ids.filter((id) => inWindow.has(id) || runDayAtOrAfter(id, o.since)),
  );
  const candidates = new Set<string>(route?.shadow?.targets ?? []);
  for (const r of rows) if (!isPrimary(r)) candidates.add(r.model_id);
  for (const id of counters.keys()) candidates.add(id);
  const volume = await requestsPerMonth(store, o.route, o.since, o.now ?? Date.now());
  const primaries = rows.filter(isPrimary).map((r) => r.model_id);
  return {
    route: o.route,
    primary: mostCommon(primaries) ?? route?.targets[0] ?? "",
    candidates: [...candidates].sort().map((id) => summariseCandidate(id, rows, counters.get(id), volume, o.criteria)),
  };
}

/** A per-day run id (shadow-YYYYMMDD-route) whose day is not before the window's start. */
function runDayAtOrAfter(id: string, since: string): boolean {
  const m = /^shadow-(\d{4})(\d{2})(\d{2})-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}` >= since.slice(0, 10) : false;
}

function mostCommon(xs: readonly string[]): string | undefined {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}
