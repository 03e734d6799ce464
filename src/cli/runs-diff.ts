/**
 * `runs diff RUN_A RUN_B`: two runs of the same suite (a model over time, a new prompt against the
 * old one) compared case by case with the same paired statistics as eval: B against A, per suite and
 * model, paired on case ids.
 */
import { caseScores } from "../evaluate/index.js";
import type { ResultRecord } from "../records/index.js";
import { comparePairedByKey, formatPValue, type PairedComparison } from "../stats/index.js";
import { UserError } from "../util/errors.js";
import { renderTable } from "../util/table.js";

export interface DiffRow {
  suite: string;
  /** The model in run A and in run B (the same id, or the only model of each run). */
  modelA: string;
  modelB: string;
  meanA: number;
  meanB: number;
  comparison: PairedComparison;
  /** Cases that passed in A and failed in B, and the reverse. */
  regressions: number;
  improvements: number;
}

const r6 = (x: number) => Number(x.toFixed(6));

function pairsOfModels(a: readonly string[], b: readonly string[]): [string, string][] {
  const common = a.filter((id) => b.includes(id));
  if (common.length) return common.map((id) => [id, id]);
  if (a.length === 1 && b.length === 1) return [[a[0] as string, b[0] as string]];
  return [];
}

export function diffRuns(
  a: { id: string; models: string[]; results: ResultRecord[] },
  b: { id: string; models: string[]; results: ResultRecord[] },
): DiffRow[] {
  const suites = [...new Set(a.results.map((r) => r.suite))].filter((s) => b.results.some((r) => r.suite === s));
  if (suites.length === 0) throw new UserError(`runs ${a.id} and ${b.id} share no suite`, "runs diff compares two runs of the same suite");
  const pairs = pairsOfModels(a.models, b.models);
  if (pairs.length === 0) throw new UserError(`runs ${a.id} and ${b.id} share no model`, "runs diff pairs models by id, or the single model of each run");
  const out: DiffRow[] = [];
  for (const suite of suites)
    for (const [ma, mb] of pairs) {
      const rowsA = a.results.filter((r) => r.suite === suite && r.modelId === ma);
      const rowsB = b.results.filter((r) => r.suite === suite && r.modelId === mb);
      const byId = (r: ResultRecord) => r.caseId;
      const sa = caseScores(rowsA, byId);
      const sb = caseScores(rowsB, byId);
      const c = comparePairedByKey(sb, sa);
      if (!c) continue;
      const passA = new Map(rowsA.filter((r) => r.repeat === 0).map((r) => [r.caseId, r.passed]));
      let regressions = 0;
      let improvements = 0;
      for (const r of rowsB) {
        if (r.repeat !== 0 || !passA.has(r.caseId)) continue;
        if (passA.get(r.caseId) && !r.passed) regressions++;
        if (!passA.get(r.caseId) && r.passed) improvements++;
      }
      const mean = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0) / Math.max(1, m.size);
      out.push({ suite, modelA: ma, modelB: mb, meanA: r6(mean(sa)), meanB: r6(mean(sb)), comparison: c, regressions, improvements });
    }
  return out;
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? "—" : `${(x * 100).toFixed(1)}%`);

export function diffTable(rows: readonly DiffRow[]): string {
  return renderTable(
    ["suite", "model (A → B)", "cases", "A", "B", "B − A [95% CI]", "p", "regressions", "improvements"],
    rows.map((d) => [
      d.suite,
      d.modelA === d.modelB ? d.modelA : `${d.modelA} → ${d.modelB}`,
      String(d.comparison.n),
      pct(d.meanA),
      pct(d.meanB),
      `${d.comparison.diff >= 0 ? "+" : ""}${(d.comparison.diff * 100).toFixed(1)} pts [${(d.comparison.ci95[0] * 100).toFixed(1)}, ${(d.comparison.ci95[1] * 100).toFixed(1)}]`,
      formatPValue(d.comparison.pValue),
      String(d.regressions),
      String(d.improvements),
    ]),
  );
}
