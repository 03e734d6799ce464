/** Self-contained HTML report: one file, inline CSS and SVG, no scripts, no network; prints well. */

import { TOOL_CALL_HEADER, toolCallRows } from "../evaluate/index.js";
import { escapeXml } from "../util/xml.js";
import { latencyChart, qualityCostChart } from "./charts.js";
import { ci, msf, pct, pv, usd, VERDICT_LABEL } from "./format.js";
import { sequentialLines } from "./markdown.js";
import { completionNote, degenerateNotes, errorNotes, GLOSSARY, simulatedNote } from "./notes.js";
import type { Report } from "./types.js";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #e5e7eb;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}.meta{color:#4b5563}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{font-weight:700;padding:.1rem .45rem;border-radius:4px}.v-adopt{background:#dcfce7;color:#166534}.v-reject{background:#fee2e2;color:#991b1b}.v-inconclusive{background:#fef9c3;color:#854d0e}.v-incomplete{background:#e0e7ff;color:#3730a3}.v-error{background:#111827;color:#fff}
.banner{border:2px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .8rem;border-radius:6px;font-weight:600;margin:.6rem 0}
.watermark{position:fixed;top:40%;left:0;right:0;text-align:center;font-size:7rem;font-weight:800;color:rgba(185,28,28,.12);transform:rotate(-24deg);pointer-events:none;z-index:10}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{max-width:100%;height:auto;border:1px solid #e5e7eb;border-radius:6px;background:#fff}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
.reg{color:#991b1b}.imp{color:#166534}footer{margin-top:2rem;color:#6b7280;font-size:12px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg,tr{break-inside:avoid}.chart{border:none}}
`;

export function renderHtml(r: Report): string {
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  h.push(`<title>Model adoption report — ${escapeXml(r.runId)}</title><style>${CSS}</style></head><body>`);
  h.push(
    `<h1>Model adoption report</h1><p class="meta">Run <code>${escapeXml(r.runId)}</code> (${escapeXml(r.status)}, ${escapeXml(r.createdAt)}) · baseline <b>${escapeXml(r.baseline)}</b> · adopt when the quality ratio's lower 95% bound ≥ ${pct(r.criteria.minQualityRatio)} and the cost ratio ≤ ${pct(r.criteria.maxCostRatio)}</p>`,
  );
  if (r.multiplicity) h.push(`<p class="meta">Multiple comparisons: ${escapeXml(r.multiplicity.note)}.</p>`);
  if (r.sequential) for (const line of sequentialLines(r.sequential)) h.push(`<p class="meta">${escapeXml(line)}</p>`);
  const sim = simulatedNote(r);
  if (sim) h.push(`<div class="watermark" id="simulated-watermark" aria-hidden="true">SIMULATED</div><p class="banner" id="simulated">${escapeXml(sim)}</p>`);
  const unfinished = completionNote(r);
  if (unfinished) h.push(`<p class="banner" id="incomplete">${escapeXml(unfinished)}</p>`);
  h.push(
    `<h2>Verdicts</h2><table id="verdicts"><thead><tr><th>candidate</th><th>verdict</th><th>quality vs baseline (95% CI)</th><th>p</th><th>cost ratio</th><th>latency p50</th><th>TTFT p50</th><th>errors</th><th>reason</th></tr></thead><tbody>`,
  );
  for (const c of r.candidates)
    h.push(
      `<tr data-model="${escapeXml(c.id)}"><td>${escapeXml(c.id)}</td><td><span class="v v-${c.verdict}">${VERDICT_LABEL[c.verdict]}</span></td><td class="num">${pct(c.qualityRatio)} (${ci(c.qualityRatioCi95)})</td><td class="num">${pv(c.pValue)}</td><td class="num">${pct(c.costRatio)}</td><td class="num">${msf(c.latencyP50Ms)}</td><td class="num">${msf(c.ttftP50Ms)}</td><td class="num">${pct(c.errorRate, 1)}</td><td>${escapeXml(c.reason)}</td></tr>`,
    );
  h.push(`</tbody></table>`);
  const notes = [...errorNotes(r), ...degenerateNotes(r)];
  if (notes.length) h.push(`<ul id="errors">${notes.map((e) => `<li>${escapeXml(e)}</li>`).join("")}</ul>`);
  h.push(`<h2>Quality, cost and latency</h2><div class="charts">${qualityCostChart(r.models, r.baseline)}${latencyChart(r.models)}</div>`);
  h.push(
    `<table id="models"><thead><tr><th>model</th><th>cases</th><th>mean score (95% CI)</th><th>cost</th><th>p50</th><th>p95</th><th>TTFT p50</th><th>errors</th><th>Pareto</th></tr></thead><tbody>`,
  );
  for (const m of r.models)
    h.push(
      `<tr><td>${escapeXml(m.id)}${m.id === r.baseline ? " (baseline)" : ""}</td><td class="num">${m.cases}</td><td class="num">${pct(m.score, 1)} (${ci(m.scoreCi95)})</td><td class="num">${usd(m.costUsd)}</td><td class="num">${msf(m.latencyP50Ms)}</td><td class="num">${msf(m.latencyP95Ms)}</td><td class="num">${msf(m.ttftP50Ms)}</td><td class="num">${pct(m.errorRate, 1)}</td><td>${m.pareto ? "✓" : ""}</td></tr>`,
    );
  h.push(`</tbody></table>`);
  const basis = r.models.filter((m) => m.costSource);
  if (basis.length)
    h.push(`<p class="meta" id="cost-basis">Cost basis: ${basis.map((m) => `<b>${escapeXml(m.id)}</b>: ${escapeXml(m.costSource ?? "")}`).join("; ")}.</p>`);
  for (const s of r.suites) {
    h.push(
      `<h2>Suite ${escapeXml(s.name)} <span class="meta">(${s.cases} cases)</span></h2><table class="suite"><thead><tr><th>model</th><th>score (95% CI)</th><th>vs baseline (95% CI)</th><th>p</th><th>cost</th><th>cost ratio</th><th>p50</th><th>errors</th></tr></thead><tbody>`,
    );
    for (const m of s.models) {
      const v = m.vsBaseline;
      h.push(
        `<tr><td>${escapeXml(m.id)}</td><td class="num">${pct(m.score.mean, 1)} (${ci(m.score.ci95)})</td><td class="num">${v ? `${pct(v.qualityRatio)} (${ci(v.qualityRatioCi95)})` : "—"}</td><td class="num">${v ? pv(v.pValue) : "—"}</td><td class="num">${usd(m.cost.usd)}</td><td class="num">${v ? pct(v.costRatio) : "—"}</td><td class="num">${msf(m.latency.p50Ms)}</td><td class="num">${m.errors}</td></tr>`,
      );
    }
    h.push(`</tbody></table>`);
    const tools = toolCallRows(s.models);
    if (tools.rows.length) {
      h.push(
        `<h3>Tool calls</h3><table class="suite tool-calls"><thead><tr>${TOOL_CALL_HEADER.map((c) => `<th>${escapeXml(c)}</th>`).join("")}</tr></thead><tbody>`,
      );
      for (const row of tools.rows) h.push(`<tr>${row.map((c, i) => `<td${i ? ' class="num"' : ""}>${escapeXml(c)}</td>`).join("")}</tr>`);
      h.push(`</tbody></table>`, ...tools.hints.map((x) => `<p class="meta">${escapeXml(x)}</p>`));
    }
  }
  if (r.redteam) {
    const ids = [...new Set(r.redteam.packs.flatMap((p) => p.models.map((m) => m.id)))];
    h.push(
      `<h2>Red-team results</h2><p class="meta">Run <code>${escapeXml(r.redteam.runId)}</code> (${escapeXml(r.redteam.createdAt)}): share of attacks that succeeded, with 95% CI (lower is better; for over-refusal, the share of harmless requests refused).</p>`,
    );
    h.push(`<table id="redteam"><thead><tr><th>pack</th>${ids.map((id) => `<th>${escapeXml(id)}</th>`).join("")}</tr></thead><tbody>`);
    for (const p of r.redteam.packs)
      h.push(
        `<tr><td>${escapeXml(p.pack)}</td>${ids
          .map((id) => {
            const m = p.models.find((x) => x.id === id);
            return `<td class="num">${m ? `${pct(m.rate)} (${ci(m.ci95)}) <small>${m.successes}/${m.attacks}</small>` : "—"}</td>`;
          })
          .join("")}</tr>`,
      );
    h.push(`</tbody></table>`);
  }
  if (r.artifacts?.length) {
    h.push(`<h2>Artifact vetting</h2><p class="meta">From <code>weightbridge scan</code>: pass, review or fail under the scan's policy.</p>`);
    h.push(
      `<table id="artifacts"><thead><tr><th>artifact</th><th>verdict</th><th>license</th><th>origin</th><th>findings</th><th>most severe</th></tr></thead><tbody>`,
    );
    for (const a of r.artifacts)
      h.push(
        `<tr><td><code>${escapeXml(a.target)}</code> <small>${a.files} files</small></td><td>${escapeXml(a.verdict.toUpperCase())}<br><small>${escapeXml(a.reasons.join("; "))}</small></td><td>${escapeXml(a.license.name ?? a.license.id)}${a.license.commercial ? `<br><small>commercial: ${escapeXml(a.license.commercial)}</small>` : ""}</td><td>${a.origin ? escapeXml(`${a.origin.lab ?? "?"} (${a.origin.country ?? "?"})`) : "unknown"}</td><td>${escapeXml(
          Object.entries(a.counts)
            .map(([k, n]) => `${n} ${k}`)
            .join(", ") || "none",
        )}</td><td>${a.top.length ? escapeXml(`${a.top[0]?.severity} ${a.top[0]?.rule} (${a.top[0]?.file || "."}): ${a.top[0]?.message}`) : "—"}</td></tr>`,
      );
    h.push(`</tbody></table>`);
  }
  h.push(`<h2>Cases that changed</h2><p class="meta">First-repeat outputs side by side: ▼ the baseline passed and the candidate failed, ▲ the reverse.</p>`);
  for (const c of r.candidates) {
    const n = r.changedCounts[c.id] ?? { regressions: 0, improvements: 0 };
    const rows = r.changedCases.filter((x) => x.candidate === c.id);
    h.push(`<h3>${escapeXml(c.id)}: <span class="reg">${n.regressions} regressions</span>, <span class="imp">${n.improvements} improvements</span></h3>`);
    if (rows.length === 0) continue;
    h.push(
      `<table class="changed" data-model="${escapeXml(c.id)}"><thead><tr><th></th><th>suite / case</th><th>input</th><th>${escapeXml(r.baseline)}</th><th>${escapeXml(c.id)}</th></tr></thead><tbody>`,
    );
    for (const x of rows)
      h.push(
        `<tr><td class="${x.direction === "regression" ? "reg" : "imp"}">${x.direction === "regression" ? "▼" : "▲"}</td><td>${escapeXml(x.suite)}<br><small>${escapeXml(x.caseId)}</small></td><td><pre>${escapeXml(x.input)}</pre></td><td><pre>${escapeXml(x.baselineOutput ?? "—")}</pre></td><td><pre>${escapeXml(x.candidateOutput ?? "—")}</pre></td></tr>`,
      );
    h.push(`</tbody></table>`);
  }
  h.push(`<h2>Glossary</h2><dl id="glossary">${GLOSSARY.map(([k, v]) => `<dt><b>${escapeXml(k)}</b></dt><dd>${escapeXml(v)}</dd>`).join("")}</dl>`);
  h.push(
    `<footer>Generated by weightbridge. Statistics: paired bootstrap CIs over cases, exact McNemar or paired permutation p-values (docs/statistics.md). Costs: tokens × price per 1M tokens.</footer></body></html>`,
  );
  return h.join("\n");
}
