/** Markdown rendering of a Report (for PRs, wikis and tickets). */

import { TOOL_CALL_HEADER, toolCallRows } from "../evaluate/index.js";
import { ci, msf, pct, pv, usd, VERDICT_LABEL } from "./format.js";
import { completionNote, degenerateNotes, errorNotes, GLOSSARY, simulatedNote } from "./notes.js";
import type { Report } from "./types.js";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ⏎ ");
const clip = (s: string | null, n = 300) => (s === null ? "—" : s.length > n ? `${s.slice(0, n)}…` : s);

/** The report, one section after another (each section is a function below returning its lines). */
export function renderMarkdown(r: Report): string {
  const out = [
    ...headerSection(r),
    ...verdictsSection(r),
    ...pooledSection(r),
    ...r.suites.flatMap(suiteSection),
    ...redteamSection(r),
    ...artifactsSection(r),
    ...changedSection(r),
    "## Glossary",
    "",
    ...GLOSSARY.map(([k, v]) => `- **${k}**: ${v}`),
  ];
  return `${out.join("\n")}\n`;
}

/** Title, baseline and criteria, multiplicity and sequential notes, the simulated and unfinished warnings. */
function headerSection(r: Report): string[] {
  const out = [
    `# Model adoption report — run ${r.runId}`,
    "",
    `Baseline: **${r.baseline}** · run ${r.status}, ${r.createdAt} · criteria: quality ratio lower 95% bound ≥ ${pct(r.criteria.minQualityRatio)}, cost ratio ≤ ${pct(r.criteria.maxCostRatio)}`,
    "",
    ...(r.multiplicity ? [`Multiple comparisons: ${r.multiplicity.note}.`, ""] : []),
    ...(r.sequential ? [...sequentialLines(r.sequential), ""] : []),
  ];
  const sim = simulatedNote(r);
  if (sim) out.push(`> **${sim}**`, "");
  const unfinished = completionNote(r);
  if (unfinished) out.push(`> **${unfinished}**`, "");
  return out;
}

function verdictsSection(r: Report): string[] {
  const out = ["## Verdicts", ""];
  out.push("| candidate | verdict | quality vs baseline (95% CI) | p | cost ratio | p50 | TTFT p50 | errors |", "|---|---|---|---|---|---|---|---|");
  for (const c of r.candidates)
    out.push(
      `| ${c.id} | **${VERDICT_LABEL[c.verdict]}** | ${pct(c.qualityRatio)} (${ci(c.qualityRatioCi95)}) | ${pv(c.pValue)} | ${pct(c.costRatio)} | ${msf(c.latencyP50Ms)} | ${msf(c.ttftP50Ms)} | ${pct(c.errorRate, 1)} |`,
    );
  out.push("");
  for (const c of r.candidates) out.push(`- **${c.id}**: ${c.reason}`);
  const errs = errorNotes(r);
  if (errs.length) out.push("", "Errors:", "", ...errs.map((e) => `- ${cell(e)}`));
  const degenerate = degenerateNotes(r);
  if (degenerate.length) out.push("", ...degenerate.map((d) => `- ${d}`));
  return out;
}

function pooledSection(r: Report): string[] {
  const out = ["", "## All models, all suites pooled", ""];
  out.push("| model | cases | mean score (95% CI) | cost | p50 | p95 | Pareto |", "|---|---|---|---|---|---|---|");
  for (const m of r.models)
    out.push(
      `| ${m.id}${m.id === r.baseline ? " (baseline)" : ""} | ${m.cases} | ${pct(m.score, 1)} (${ci(m.scoreCi95)}) | ${usd(m.costUsd)} | ${msf(m.latencyP50Ms)} | ${msf(m.latencyP95Ms)} | ${m.pareto ? "yes" : ""} |`,
    );
  const basis = r.models.filter((m) => m.costSource);
  if (basis.length) out.push("", `Cost basis: ${basis.map((m) => `${m.id}: ${m.costSource}`).join("; ")}.`);
  return out;
}

function suiteSection(s: Report["suites"][number]): string[] {
  const out = ["", `## Suite ${s.name} (${s.cases} cases)`, ""];
  out.push("| model | score (95% CI) | vs baseline (95% CI) | p | cost | cost ratio | p50 | errors |", "|---|---|---|---|---|---|---|---|");
  for (const m of s.models) {
    const v = m.vsBaseline;
    out.push(
      `| ${m.id} | ${pct(m.score.mean, 1)} (${ci(m.score.ci95)}) | ${v ? `${pct(v.qualityRatio)} (${ci(v.qualityRatioCi95)})` : "—"} | ${v ? pv(v.pValue) : "—"} | ${usd(m.cost.usd)} | ${v ? pct(v.costRatio) : "—"} | ${msf(m.latency.p50Ms)} | ${m.errors} |`,
    );
  }
  const tools = toolCallRows(s.models);
  if (tools.rows.length) {
    out.push("", "Tool calls:", "", `| ${TOOL_CALL_HEADER.join(" | ")} |`, `|${TOOL_CALL_HEADER.map(() => "---").join("|")}|`);
    for (const row of tools.rows) out.push(`| ${row.map(cell).join(" | ")} |`);
    for (const h of tools.hints) out.push("", `> ${cell(h)}`);
  }
  return out;
}

function redteamSection(r: Report): string[] {
  if (!r.redteam) return [];
  const ids = [...new Set(r.redteam.packs.flatMap((p) => p.models.map((m) => m.id)))];
  const out = ["", `## Red-team results (run ${r.redteam.runId})`, "", "Share of attacks that succeeded, 95% CI (lower is better).", ""];
  out.push(`| pack | ${ids.join(" | ")} |`, `|---|${ids.map(() => "---").join("|")}|`);
  for (const p of r.redteam.packs)
    out.push(
      `| ${p.pack} | ${ids
        .map((id) => {
          const m = p.models.find((x) => x.id === id);
          return m ? `${pct(m.rate)} (${ci(m.ci95)})` : "—";
        })
        .join(" | ")} |`,
    );
  return out;
}

function artifactsSection(r: Report): string[] {
  if (!r.artifacts?.length) return [];
  const out = ["", "## Artifact vetting", "", "| artifact | verdict | license | origin | findings | most severe |", "|---|---|---|---|---|---|"];
  for (const a of r.artifacts) {
    const counts = Object.entries(a.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    const worst = a.top[0];
    out.push(
      `| ${a.target} | ${a.verdict.toUpperCase()} | ${a.license.name ?? a.license.id}${a.license.commercial ? ` (commercial: ${a.license.commercial})` : ""} | ${a.origin ? `${a.origin.lab ?? "?"} (${a.origin.country ?? "?"})` : "unknown"} | ${counts || "none"} | ${worst ? `${worst.severity} ${worst.rule}: ${worst.message}` : "—"} |`,
    );
  }
  return out;
}

/** Per candidate: its regressions and improvements against the baseline, outputs side by side (clipped). */
function changedSection(r: Report): string[] {
  const out = ["", "## Cases that changed", ""];
  for (const c of r.candidates) {
    const n = r.changedCounts[c.id] ?? { regressions: 0, improvements: 0 };
    out.push(`### ${c.id}: ${n.regressions} regressions, ${n.improvements} improvements vs ${r.baseline}`, "");
    const rows = r.changedCases.filter((x) => x.candidate === c.id);
    if (rows.length === 0) {
      out.push("None.", "");
      continue;
    }
    out.push(`| | suite / case | input | ${r.baseline} | ${c.id} |`, "|---|---|---|---|---|");
    for (const x of rows)
      out.push(
        `| ${x.direction === "regression" ? "▼" : "▲"} | ${cell(`${x.suite} / ${x.caseId}`)} | ${cell(clip(x.input, 160))} | ${cell(clip(x.baselineOutput))} | ${cell(clip(x.candidateOutput))} |`,
      );
    out.push("");
  }
  return out;
}

/** `--until-decided` runs: one line per suite saying where it stopped and why. */
export function sequentialLines(s: NonNullable<Report["sequential"]>): string[] {
  return s.suites.map(
    (x) =>
      `Sequential run (--until-decided): suite ${x.name} ${x.cases < x.of ? `stopped early after ${x.cases} of ${x.of} cases` : `ran ${x.cases} of ${x.of} cases`} (look ${x.look}, α ${x.alpha.toFixed(4)}): ${x.reason}.`,
  );
}
