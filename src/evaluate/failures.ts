/**
 * Per model: how many requests failed and the first error, so that the table can say *why* a model
 * shows "errors 5" (the message was only in the store) and `eval` can fail when a model answered nothing.
 */
import type { ResultRecord } from "../records/index.js";
import type { Plan } from "./plan.js";

export interface ModelFailures {
  id: string;
  requests: number;
  errors: number;
  /** The first error in suite and case order, on one line. */
  firstError: string | null;
}

const oneLine = (s: string, n = 200) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
};

export function modelFailures(plan: Plan, rows: readonly ResultRecord[]): ModelFailures[] {
  const suiteOrder = new Map(plan.suites.map((s, i) => [s.name, i]));
  const out = new Map<string, ModelFailures & { at: [number, number, number] | null }>(
    plan.models.map((m) => [m.config.id, { id: m.config.id, requests: 0, errors: 0, firstError: null, at: null }]),
  );
  for (const r of rows) {
    const f = out.get(r.modelId);
    if (!f) continue;
    f.requests++;
    if (r.error === null) continue;
    f.errors++;
    const at: [number, number, number] = [suiteOrder.get(r.suite) ?? 0, r.caseIndex, r.repeat];
    if (!f.at || at[0] < f.at[0] || (at[0] === f.at[0] && (at[1] < f.at[1] || (at[1] === f.at[1] && at[2] < f.at[2])))) {
      f.at = at;
      f.firstError = oneLine(r.error);
    }
  }
  return [...out.values()].map(({ at: _, ...f }) => f);
}

/** Models every one of whose requests failed (nothing was measured for them). */
export function allFailed(failures: readonly ModelFailures[]): ModelFailures[] {
  return failures.filter((f) => f.requests > 0 && f.errors === f.requests);
}
