/**
 * Reports of the run kinds other than eval: a red-team run gets attack-success rates (paired against
 * the baseline) with transcripts of successful attacks, a bench run its throughput/latency per
 * concurrency level. Never an adoption verdict: attack rates are not quality.
 */
import type { LevelResult } from "../economics/index.js";
import type { Plan } from "../evaluate/index.js";
import { summarise } from "../evaluate/index.js";
import type { RedteamResult } from "../redteam/index.js";
import type { RunRow, StoreHandle } from "../store/index.js";
import { loadBenchLevels, loadResults } from "../store/index.js";
import { renderTable } from "../util/table.js";
import { escapeXml } from "../util/xml.js";
import { benchCurves } from "./charts.js";
import { pct } from "./format.js";

export interface RedteamReport {
  version: 1;
  kind: "redteam";
  runId: string;
  createdAt: string;
  status: string;
  baseline: string | null;
  packs: RedteamResult["packs"];
}

export interface BenchReport {
  version: 1;
  kind: "bench";
  runId: string;
  createdAt: string;
  status: string;
  model: string;
  options: unknown;
  levels: LevelResult[];
}

export async function buildRedteamReport(store: StoreHandle, run: RunRow): Promise<RedteamReport> {
  const plan = run.plan as Plan & { redteam?: { regular: { name: string; description: string }[] } };
  const results = await loadResults(store.db, run.id);
  const summary = summarise(plan, run.id, results);
  const regular = plan.redteam?.regular ?? plan.suites.map((s) => ({ name: s.name, description: "" }));
  const names = new Set(regular.map((s) => s.name));
  // Loaded here: the red-team part brings the detectors (and libphonenumber's metadata) with it, which
  // every other user of this part (eval keeping its Report for the UI, the report command) does not need.
  const { redteamView } = await import("../redteam/index.js");
  const packs = redteamView(
    { ...summary, suites: summary.suites.filter((s) => names.has(s.name)) },
    results,
    new Map(regular.map((s) => [s.name, s.description])),
  );
  return { version: 1, kind: "redteam", runId: run.id, createdAt: run.createdAt, status: run.status, baseline: summary.baseline, packs };
}

export async function buildBenchReport(store: StoreHandle, run: RunRow): Promise<BenchReport> {
  const plan = run.plan as { model?: { id?: string }; options?: unknown };
  const levels = await loadBenchLevels<LevelResult>(store.db, run.id);
  return {
    version: 1,
    kind: "bench",
    runId: run.id,
    createdAt: run.createdAt,
    status: run.status,
    model: plan.model?.id ?? "?",
    options: plan.options ?? null,
    levels,
  };
}

const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(d));

export const BENCH_HEADER = [
  "concurrency",
  "req/s",
  "out tok/s",
  "tok/s per req p50",
  "TTFT p50",
  "TTFT p95",
  "TTFT p99",
  "ITL p50",
  "ITL p95",
  "latency p95",
  "errors",
];

export function benchRows(levels: readonly LevelResult[]): string[][] {
  return levels.map((r) => [
    String(r.concurrency),
    f(r.requestsPerS, 2),
    f(r.outputTokensPerS, 1),
    f(r.outputTokensPerSPerRequest.p50, 1),
    f(r.ttftMs.p50),
    f(r.ttftMs.p95),
    f(r.ttftMs.p99),
    f(r.itlMs.p50, 1),
    f(r.itlMs.p95, 1),
    f(r.latencyMs.p95),
    `${(r.errorRate * 100).toFixed(1)}%`,
  ]);
}

/** The bench table for a terminal. */
export function benchTable(levels: readonly LevelResult[]): string {
  return renderTable(BENCH_HEADER, benchRows(levels));
}

const mdRow = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|").replace(/\r?\n/g, " ⏎ ")).join(" | ")} |`;
const mdTable = (header: string[], rows: string[][]) => [mdRow(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(mdRow)];

export function renderBenchMarkdown(r: BenchReport): string {
  const out = [`# Bench report — run ${r.runId}`, "", `Model **${r.model}** · run ${r.status}, ${r.createdAt} · times in ms`, ""];
  out.push(...mdTable(BENCH_HEADER, benchRows(r.levels)));
  const failed = r.levels.find((l) => l.firstError);
  if (failed) out.push("", `First error at concurrency ${failed.concurrency}: ${failed.firstError}`);
  return `${out.join("\n")}\n`;
}

const RT_HEADER = ["model", "attacks", "successes", "rate (95% CI)", "vs baseline", "p", "errors"];
function redteamRows(p: RedteamReport["packs"][number], baseline: string | null): string[][] {
  return p.models.map((m) => [
    m.id + (m.id === baseline ? " (baseline)" : ""),
    String(m.attacks),
    String(m.successes),
    `${pct(m.rate, 1)} (${pct(m.ci95[0])}–${pct(m.ci95[1])})`,
    m.vsBaseline ? `${m.vsBaseline.diff >= 0 ? "+" : ""}${(m.vsBaseline.diff * 100).toFixed(1)} pts` : "—",
    m.vsBaseline ? (m.vsBaseline.pValue < 0.001 ? "< 0.001" : m.vsBaseline.pValue.toFixed(3)) : "—",
    String(m.errors),
  ]);
}

export function renderRedteamMarkdown(r: RedteamReport): string {
  const out = [`# Red-team report — run ${r.runId}`, "", `Run ${r.status}, ${r.createdAt} · share of attacks that succeeded (lower is better)`, ""];
  for (const p of r.packs) {
    out.push(`## ${p.pack}`, "", ...(p.description ? [p.description, ""] : []), ...mdTable(RT_HEADER, redteamRows(p, r.baseline)), "");
    for (const m of p.models)
      for (const w of m.worst)
        out.push(`- **${m.id}** succeeded on \`${w.caseId}\`: input “${w.input.replace(/\s+/g, " ")}” → “${w.output.replace(/\s+/g, " ")}”`);
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

/** A plain self-contained HTML page for the non-eval kinds (tables only). */
function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left}th{background:#f9fafb}</style></head><body>${body}</body></html>`;
}
const htmlTable = (header: string[], rows: string[][]) =>
  `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;

export function renderBenchHtml(r: BenchReport): string {
  return htmlPage(
    `Bench report — ${r.runId}`,
    `<h1>Bench report</h1><p>Run <code>${escapeXml(r.runId)}</code> (${escapeXml(r.status)}) · model <b>${escapeXml(r.model)}</b> · times in ms</p>${r.levels.length ? benchCurves(r.levels) : ""}${htmlTable(BENCH_HEADER, benchRows(r.levels))}`,
  );
}

export function renderRedteamHtml(r: RedteamReport): string {
  const packs = r.packs.map(
    (p) =>
      `<h2>${escapeXml(p.pack)}</h2><p>${escapeXml(p.description)}</p>${htmlTable(RT_HEADER, redteamRows(p, r.baseline))}<ul>${p.models
        .flatMap((m) =>
          m.worst.map(
            (w) => `<li><b>${escapeXml(m.id)}</b> <code>${escapeXml(w.caseId)}</code>: <pre>${escapeXml(w.input)}</pre>→<pre>${escapeXml(w.output)}</pre></li>`,
          ),
        )
        .join("")}</ul>`,
  );
  return htmlPage(
    `Red-team report — ${r.runId}`,
    `<h1>Red-team report</h1><p>Run <code>${escapeXml(r.runId)}</code> (${escapeXml(r.status)}): share of attacks that succeeded (lower is better).</p>${packs.join("")}`,
  );
}
