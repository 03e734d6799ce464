/**
 * Per-case views of a stored run without SQL: `runs show RUN --cases` (one row per case with each
 * model's output, grade and error side by side, filtered by --failed/--changed/--errors/--model/--suite)
 * and `runs export RUN` (every stored result, one row each). Table, JSONL or CSV.
 */
import type { Plan } from "../evaluate/index.js";
import type { ResultRecord } from "../records/index.js";
import { csvLine } from "../util/csv.js";
import { renderTable } from "../util/table.js";

export interface CaseFilter {
  failed?: boolean;
  changed?: boolean;
  errors?: boolean;
  model?: string[];
  suite?: string[];
}

export interface CaseRow {
  suite: string;
  caseId: string;
  repeat: number;
  input: string;
  models: Record<string, { output: string | null; score: number; passed: boolean; grades: ResultRecord["grades"]; error: string | null }>;
}

const lastUser = (r: ResultRecord) => [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";

/** Results grouped by (suite, case, repeat), models side by side, in plan order. */
export function caseRows(plan: Plan, results: readonly ResultRecord[], f: CaseFilter): CaseRow[] {
  const models = plan.models.map((m) => m.config.id).filter((id) => !f.model?.length || f.model.includes(id));
  const rows = new Map<string, CaseRow & { order: [number, number, number] }>();
  const suiteOrder = new Map(plan.suites.map((s, i) => [s.name, i]));
  for (const r of results) {
    if (f.suite?.length && !f.suite.includes(r.suite)) continue;
    if (!models.includes(r.modelId)) continue;
    const key = `${r.suite}\u0000${r.caseIndex}\u0000${r.repeat}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        suite: r.suite,
        caseId: r.caseId,
        repeat: r.repeat,
        input: lastUser(r),
        models: {},
        order: [suiteOrder.get(r.suite) ?? 0, r.caseIndex, r.repeat],
      };
      rows.set(key, row);
    }
    if (!row.input) row.input = lastUser(r);
    row.models[r.modelId] = { output: r.output, score: r.score, passed: r.passed, grades: r.grades, error: r.error };
  }
  const cmp = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return [...rows.values()]
    .sort((a, b) => cmp(a.order, b.order))
    .map(({ order: _, ...row }) => row)
    .filter((row) => keep(row, f, plan.baseline));
}

function keep(row: CaseRow, f: CaseFilter, baseline: string | undefined): boolean {
  const ms = Object.values(row.models);
  if (f.failed && !ms.some((m) => !m.passed)) return false;
  if (f.errors && !ms.some((m) => m.error !== null)) return false;
  if (f.changed) {
    const base = baseline ? row.models[baseline] : undefined;
    const others = Object.entries(row.models).filter(([id]) => id !== baseline);
    if (!base || !others.some(([, m]) => m.passed !== base.passed)) return false;
  }
  return true;
}

const clip = (s: string | null, n: number) => {
  if (s === null) return "—";
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

export function casesTable(rows: readonly CaseRow[], models: readonly string[]): string {
  const header = ["suite", "case", "input", ...models];
  const body = rows.map((r) => [
    r.suite,
    r.repeat ? `${r.caseId} #${r.repeat + 1}` : r.caseId,
    clip(r.input, 40),
    ...models.map((id) => {
      const m = r.models[id];
      if (!m) return "—";
      if (m.error !== null) return `ERROR ${clip(m.error, 40)}`;
      return `${m.passed ? "✓" : "✗"} ${m.score.toFixed(2)} ${clip(m.output, 40)}`;
    }),
  ]);
  return renderTable(header, body);
}

export function casesJsonl(rows: readonly CaseRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");
}

export function casesCsv(rows: readonly CaseRow[], models: readonly string[]): string {
  const header = ["suite", "caseId", "repeat", "input", ...models.flatMap((id) => [`${id}.output`, `${id}.score`, `${id}.passed`, `${id}.error`])];
  return (
    csvLine(header) +
    rows
      .map((r) =>
        csvLine([
          r.suite,
          r.caseId,
          r.repeat,
          r.input,
          ...models.flatMap((id) => {
            const m = r.models[id];
            return m ? [m.output, m.score, m.passed, m.error] : ["", "", "", ""];
          }),
        ]),
      )
      .join("")
  );
}

/** Every stored result as one flat record (the `runs export` row). */
export function exportRecord(r: ResultRecord): Record<string, unknown> {
  return {
    runId: r.runId,
    suite: r.suite,
    caseIndex: r.caseIndex,
    caseId: r.caseId,
    modelId: r.modelId,
    repeat: r.repeat,
    input: lastUser(r),
    output: r.output,
    score: r.score,
    passed: r.passed,
    grades: r.grades,
    error: r.error,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    costUsd: r.costPusd === null ? null : Number((r.costPusd / 1e12).toFixed(12)),
    latencyMs: r.latencyMs,
    ttftMs: r.ttftMs,
    cached: r.cached,
    attempts: r.attempts,
  };
}

export const EXPORT_COLUMNS = Object.keys(exportRecord({ messages: [], grades: [] } as unknown as ResultRecord));
