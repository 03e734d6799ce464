/** Inline SVG charts (no scripts, no network): quality vs cost with the Pareto frontier, and latency. Pure. */
import { plotArea } from "../util/plot-area.js";
import { escapeXml } from "../util/xml.js";
import type { ModelOverall } from "./types.js";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export function qualityCostChart(models: readonly ModelOverall[], baseline: string): string {
  const area = plotArea(640, 380, { left: 70, right: 20, top: 30, bottom: 55 });
  const { W, H, L, R, T, B } = area;
  const priced = models.filter((m) => m.costUsd !== null && Number.isFinite(m.score));
  const maxCost = niceMax(Math.max(...priced.map((m) => m.costUsd as number), 0) * 1.1);
  const x = (c: number) => area.x(c / maxCost);
  const y = area.y;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Quality versus cost" class="chart" id="chart-quality-cost">`,
  );
  parts.push(`<title>Quality (mean score) versus cost of the run, with the Pareto frontier</title>`);
  for (let i = 0; i <= 5; i++) {
    const q = i / 5;
    parts.push(
      `<line x1="${L}" y1="${y(q)}" x2="${W - R}" y2="${y(q)}" stroke="#e5e7eb"/><text x="${L - 8}" y="${y(q) + 4}" text-anchor="end" font-size="11" fill="#374151">${Math.round(q * 100)}%</text>`,
    );
    const c = (maxCost * i) / 5;
    parts.push(`<text x="${x(c)}" y="${H - B + 18}" text-anchor="middle" font-size="11" fill="#374151">$${c < 0.01 ? c.toFixed(4) : c.toFixed(2)}</text>`);
  }
  parts.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#6b7280"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#6b7280"/>`,
  );
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle" font-size="12" fill="#111827">cost of this run (USD)</text>`);
  parts.push(
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" font-size="12" fill="#111827" transform="rotate(-90 16 ${(T + H - B) / 2})">mean score</text>`,
  );
  const frontier = priced.filter((m) => m.pareto).sort((a, b) => (a.costUsd as number) - (b.costUsd as number));
  if (frontier.length > 1)
    parts.push(
      `<polyline class="pareto" fill="none" stroke="#16a34a" stroke-width="2" stroke-dasharray="6 4" points="${frontier.map((m) => `${x(m.costUsd as number)},${y(m.score)}`).join(" ")}"/>`,
    );
  priced.forEach((m, i) => {
    const cx = x(m.costUsd as number);
    const cy = y(m.score);
    const color = COLORS[i % COLORS.length];
    parts.push(
      `<g class="point" data-model="${escapeXml(m.id)}"><line x1="${cx}" y1="${y(m.scoreCi95[0])}" x2="${cx}" y2="${y(m.scoreCi95[1])}" stroke="${color}" stroke-width="1.5"/>`,
    );
    parts.push(`<circle cx="${cx}" cy="${cy}" r="${m.id === baseline ? 7 : 5.5}" fill="${m.pareto ? color : "#fff"}" stroke="${color}" stroke-width="2"/>`);
    // Labels near the right edge go to the left of their point, so they are never clipped.
    const left = cx > L + (W - L - R) * 0.6;
    parts.push(
      `<text x="${left ? cx - 9 : cx + 9}" y="${cy - 8}" text-anchor="${left ? "end" : "start"}" font-size="12" fill="${color}">${escapeXml(m.id)}${m.id === baseline ? " (baseline)" : ""}</text></g>`,
    );
  });
  const unpriced = models.filter((m) => m.costUsd === null).map((m) => m.id);
  if (unpriced.length)
    parts.push(
      `<text x="${W - R}" y="${T - 10}" text-anchor="end" font-size="11" fill="#6b7280">not shown (no price): ${escapeXml(unpriced.join(", "))}</text>`,
    );
  parts.push(`<text x="${L}" y="${T - 10}" font-size="11" fill="#16a34a">filled + dashed: Pareto frontier; bars: 95% CI</text>`);
  parts.push("</svg>");
  return parts.join("");
}

export function latencyChart(models: readonly ModelOverall[]): string {
  const rows = models.filter((m) => m.latencyP50Ms !== null);
  const W = 640;
  const rowH = 34;
  const L = 140;
  const R = 70;
  const T = 30;
  const H = T + rows.length * rowH + 30;
  const max = niceMax(Math.max(...rows.map((m) => m.latencyP95Ms ?? m.latencyP50Ms ?? 0), 1));
  const x = (v: number) => L + (v / max) * (W - L - R);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Latency" class="chart" id="chart-latency">`,
  ];
  parts.push("<title>Latency per model: p50 (solid) and p95 (light), TTFT p50 (tick)</title>");
  rows.forEach((m, i) => {
    const yy = T + i * rowH;
    parts.push(`<text x="${L - 8}" y="${yy + 17}" text-anchor="end" font-size="12" fill="#111827">${escapeXml(m.id)}</text>`);
    if (m.latencyP95Ms !== null) parts.push(`<rect x="${L}" y="${yy + 4}" width="${x(m.latencyP95Ms) - L}" height="20" fill="#bfdbfe"/>`);
    parts.push(`<rect class="bar" x="${L}" y="${yy + 4}" width="${x(m.latencyP50Ms ?? 0) - L}" height="20" fill="#2563eb"/>`);
    if (m.ttftP50Ms !== null)
      parts.push(`<line x1="${x(m.ttftP50Ms)}" y1="${yy + 1}" x2="${x(m.ttftP50Ms)}" y2="${yy + 27}" stroke="#111827" stroke-width="2"/>`);
    parts.push(
      `<text x="${x(m.latencyP95Ms ?? m.latencyP50Ms ?? 0) + 6}" y="${yy + 18}" font-size="11" fill="#374151">${Math.round(m.latencyP50Ms ?? 0)} / ${Math.round(m.latencyP95Ms ?? 0)} ms</text>`,
    );
  });
  parts.push(`<text x="${L}" y="${T - 10}" font-size="11" fill="#374151">p50 (dark) and p95 (light) request latency; tick: time to first token (p50)</text>`);
  parts.push("</svg>");
  return parts.join("");
}

/** One series of a line chart: a name, a colour, points (x, y); null ys are gaps. */
interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number | null][];
}

/** A small line chart with a log-scaled x axis (concurrency levels double) and labelled series. */
function lineChart(id: string, title: string, yLabel: string, xs: readonly number[], series: readonly Series[]): string {
  const area = plotArea(520, 260, { left: 56, right: 16, top: 30, bottom: 44 });
  const { W, H, L, R, T, B } = area;
  const ys = series.flatMap((s) => s.points.map((p) => p[1] ?? 0));
  const maxY = niceMax(Math.max(...ys, 0) * 1.05);
  const lx = xs.map((v) => Math.log2(Math.max(v, 1)));
  const [x0, x1] = [Math.min(...lx), Math.max(...lx)];
  const x = (v: number) => area.x(x1 === x0 ? 0.5 : (Math.log2(Math.max(v, 1)) - x0) / (x1 - x0));
  const y = (v: number) => area.y(v / maxY);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}" class="chart" id="${id}">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="${L}" y="${T - 12}" font-size="12" fill="#111827">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY * i) / 4;
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10" fill="#374151">${Number(v.toPrecision(3))}</text>`);
  }
  for (const v of xs) parts.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle" font-size="10" fill="#374151">${v}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#374151">concurrent requests</text>`);
  parts.push(
    `<text x="12" y="${(T + H - B) / 2}" font-size="11" fill="#374151" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p): p is [number, number] => p[1] !== null);
    if (pts.length) {
      const d = pts.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
      for (const p of pts) parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    parts.push(`<text x="${L + 110 + i * 90}" y="${T - 12}" font-size="10" fill="${s.color}">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

/** A bench run's curves over concurrency: throughput (requests and output tokens per second) and latency (p50, p95, TTFT p50). */
export function benchCurves(
  levels: readonly {
    concurrency: number;
    requestsPerS: number;
    outputTokensPerS: number;
    latencyMs: { p50: number | null; p95: number | null };
    ttftMs: { p50: number | null };
  }[],
): string {
  const xs = levels.map((l) => l.concurrency);
  const throughput = lineChart("chart-bench-throughput", "Throughput", "requests per second", xs, [
    { name: "requests/s", color: COLORS[0] as string, points: levels.map((l) => [l.concurrency, l.requestsPerS]) },
  ]);
  const tokens = lineChart("chart-bench-tokens", "Output tokens", "tokens per second", xs, [
    { name: "output tok/s", color: COLORS[2] as string, points: levels.map((l) => [l.concurrency, l.outputTokensPerS]) },
  ]);
  const latency = lineChart("chart-bench-latency", "Latency", "ms", xs, [
    { name: "p50", color: COLORS[0] as string, points: levels.map((l) => [l.concurrency, l.latencyMs.p50]) },
    { name: "p95", color: COLORS[1] as string, points: levels.map((l) => [l.concurrency, l.latencyMs.p95]) },
    { name: "TTFT p50", color: COLORS[2] as string, dashed: true, points: levels.map((l) => [l.concurrency, l.ttftMs.p50]) },
  ]);
  return `<div class="charts">${throughput}${tokens}${latency}</div>`;
}
