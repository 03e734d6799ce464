/** Terminal rendering of an eval summary. */
import type { EvalSummary, ModelFailures } from "../evaluate/index.js";
import { TOOL_CALL_HEADER, toolCallRows } from "../evaluate/index.js";
import { formatPValue } from "../stats/index.js";
import { renderTable } from "../util/table.js";

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "—" : `${(x * 100).toFixed(digits)}%`);
const usd = (x: number | null) => (x === null ? "—" : x < 0.01 ? `$${x.toFixed(5)}` : `$${x.toFixed(4)}`);
const msf = (x: number | null) => (x === null ? "—" : `${Math.round(x)}`);

/** One line per model that had failures: how many, and the first error. */
export function formatFailures(failures: readonly ModelFailures[]): string[] {
  return failures.filter((f) => f.errors > 0).map((f) => `  ${f.id}: ${f.errors} of ${f.requests} requests failed; first error: ${f.firstError ?? "?"}`);
}

export function formatSummary(s: EvalSummary, failures: readonly ModelFailures[] = []): string {
  const out: string[] = [];
  const simulated = (s as EvalSummary & { simulated?: string[] }).simulated;
  if (simulated?.length) out.push(`SIMULATED: ${simulated.join(", ")} answered from \`weightbridge simulate\`, not a real model.`, "");
  for (const suite of s.suites) {
    out.push(`Suite ${suite.name} (${suite.cases} cases${s.repeat > 1 ? ` × ${s.repeat} repeats` : ""})`);
    const rows = suite.models.map((m) => {
      const v = m.vsBaseline;
      const extra =
        m.metrics?.macroF1 !== undefined ? ` F1 ${pct(m.metrics.macroF1, 0)}` : m.metrics?.ndcg !== undefined ? ` nDCG ${pct(m.metrics.ndcg, 0)}` : "";
      return [
        m.id + (m.id === s.baseline ? " (baseline)" : ""),
        `${pct(m.score.mean)} [${pct(m.score.ci95[0], 0)}–${pct(m.score.ci95[1], 0)}]${extra}`,
        v ? `${pct(v.qualityRatio, 0)}${v.qualityRatioCi95 ? ` [${pct(v.qualityRatioCi95[0], 0)}–${pct(v.qualityRatioCi95[1], 0)}]` : ""}` : "—",
        v ? formatPValue(v.pValue) : "—",
        usd(m.cost.usd),
        v?.costRatio != null ? pct(v.costRatio, 0) : "—",
        msf(m.latency.p50Ms),
        msf(m.latency.ttftP50Ms),
        String(m.errors),
      ];
    });
    out.push(renderTable(["model", "score [95% CI]", "vs baseline [95% CI]", "p", "cost", "cost ratio", "p50 ms", "ttft ms", "errors"], rows));
    for (const m of suite.models) if (m.vsBaseline) out.push(`  ${m.vsBaseline.sentence}`);
    const tools = toolCallRows(suite.models);
    if (tools.rows.length) out.push("Tool calls:", renderTable(TOOL_CALL_HEADER, tools.rows), ...tools.hints.map((h) => `  ${h}`));
    out.push("");
  }
  if (s.multiplicity && s.multiplicity.comparisons > 1) out.push(`Multiple comparisons: ${s.multiplicity.note}.`);
  const lines = formatFailures(failures);
  if (lines.length) out.push("Errors:", ...lines, "");
  return out.join("\n");
}

/** Markdown for $GITHUB_STEP_SUMMARY: each suite's table and the comparison sentences. */
export function formatSummaryGithub(s: EvalSummary, failures: readonly ModelFailures[] = []): string {
  const out = [`### weightbridge eval \`${s.runId}\`${s.status && s.status !== "completed" ? ` (${s.status})` : ""}`, ""];
  for (const suite of s.suites) {
    out.push(`**${suite.name}** (${suite.cases} cases)`, "", "| model | score [95% CI] | vs baseline | p | cost | errors |", "|---|---|---|---|---|---|");
    for (const m of suite.models) {
      const v = m.vsBaseline;
      out.push(
        `| ${m.id}${m.id === s.baseline ? " (baseline)" : ""} | ${pct(m.score.mean)} [${pct(m.score.ci95[0], 0)}–${pct(m.score.ci95[1], 0)}] | ${v ? pct(v.qualityRatio, 0) : "—"} | ${v ? formatPValue(v.pValue) : "—"} | ${usd(m.cost.usd)} | ${m.errors} |`,
      );
    }
    out.push("", ...suite.models.flatMap((m) => (m.vsBaseline ? [`- ${m.vsBaseline.sentence}`] : [])), "");
  }
  const lines = formatFailures(failures);
  if (lines.length) out.push("**Errors**", "", ...lines.map((l) => `- ${l.trim()}`), "");
  return `${out.join("\n")}\n`;
}

/** Suites × models whose mean score is below the threshold (eval --fail-below). */
export function belowThreshold(s: EvalSummary, min: number): string[] {
  return s.suites.flatMap((suite) =>
    suite.models.filter((m) => m.n > 0 && m.score.mean < min).map((m) => `${m.id} scores ${pct(m.score.mean)} on ${suite.name} (below ${pct(min)})`),
  );
}
