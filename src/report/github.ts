/**
 * A short Markdown summary for `$GITHUB_STEP_SUMMARY` or a pull-request comment: the verdict per
 * candidate with its reason, what was simulated or unfinished, and the first error of failing models.
 */
import { ci, pct, pv, VERDICT_LABEL } from "./format.js";
import { completionNote, errorNotes, simulatedNote } from "./notes.js";
import type { Report } from "./types.js";

const ICON: Record<string, string> = { adopt: "✅", reject: "❌", inconclusive: "⚠️", incomplete: "⏸️", error: "🛑" };
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

export function renderGithub(r: Report): string {
  const out = [
    `### weightbridge: ${r.candidates.map((c) => `${ICON[c.verdict] ?? ""} ${c.id} ${VERDICT_LABEL[c.verdict]}`).join(" · ") || "no candidates"}`,
    "",
  ];
  const sim = simulatedNote(r);
  if (sim) out.push(`> [!WARNING]\n> ${sim}`, "");
  const unfinished = completionNote(r);
  if (unfinished) out.push(`> [!NOTE]\n> ${unfinished}`, "");
  out.push(
    `Run \`${r.runId}\` · baseline **${r.baseline}** · adopt when quality ≥ ${pct(r.criteria.minQualityRatio)} (lower 95% bound) and cost ≤ ${pct(r.criteria.maxCostRatio)}`,
    "",
  );
  out.push("| candidate | verdict | quality vs baseline (95% CI) | p | cost ratio | errors |", "|---|---|---|---|---|---|");
  for (const c of r.candidates)
    out.push(
      `| ${cell(c.id)} | ${ICON[c.verdict] ?? ""} **${VERDICT_LABEL[c.verdict]}** | ${pct(c.qualityRatio)} (${ci(c.qualityRatioCi95)}) | ${pv(c.pValue)} | ${pct(c.costRatio)} | ${pct(c.errorRate, 1)} |`,
    );
  out.push("", ...r.candidates.map((c) => `- **${cell(c.id)}**: ${cell(c.reason)}`));
  const errs = errorNotes(r);
  if (errs.length) out.push("", ...errs.map((e) => `- ${cell(e)}`));
  return `${out.join("\n")}\n`;
}
