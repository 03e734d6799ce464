/** SVG charts that read on their own: bars for one snapshot, stacked shares over time. Pure. */
import { plotArea } from "../util/plot-area.js";
import { escapeXml } from "../util/xml.js";

const COLORS = ["#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f", "#a16207", "#475569"];

export function barChart(title: string, rows: { key: string; share: number; value: number }[], valueLabel: string): string {
  const W = 760;
  const rowH = 26;
  const L = 220;
  const T = 56;
  const H = T + rows.length * rowH + 40;
  const max = Math.max(...rows.map((r) => r.share), 0.0001);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui,sans-serif">`];
  parts.push(`<rect width="100%" height="100%" fill="#fff"/><text x="20" y="30" font-size="17" font-weight="600" fill="#111827">${escapeXml(title)}</text>`);
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    const w = ((W - L - 110) * r.share) / max;
    parts.push(`<text x="${L - 8}" y="${y + 16}" text-anchor="end" font-size="12" fill="#111827">${escapeXml(r.key)}</text>`);
    parts.push(`<rect class="bar" x="${L}" y="${y + 3}" width="${w.toFixed(1)}" height="18" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(
      `<text x="${(L + w + 6).toFixed(1)}" y="${y + 16}" font-size="12" fill="#374151">${(r.share * 100).toFixed(1)}% · ${r.value.toLocaleString("en-US")} ${escapeXml(valueLabel)}</text>`,
    );
  });
  parts.push(`<text x="20" y="${H - 12}" font-size="11" fill="#6b7280">Share of ${escapeXml(valueLabel)}; source: weightbridge scoreboard</text></svg>`);
  return parts.join("");
}

/** Stacked shares over time for the top groups (the rest as "other"). */
export function stackedShareChart(title: string, times: string[], series: { key: string; shares: number[] }[]): string {
  const area = plotArea(940, 440, { left: 60, right: 270, top: 50, bottom: 50 });
  const { W, H, L, R, T, B } = area;
  const n = times.length;
  const x = (i: number) => area.x(n <= 1 ? 0 : i / (n - 1));
  const y = area.y;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui,sans-serif">`];
  parts.push(`<rect width="100%" height="100%" fill="#fff"/><text x="20" y="30" font-size="17" font-weight="600" fill="#111827">${escapeXml(title)}</text>`);
  const base = new Array<number>(n).fill(0);
  series.forEach((s, k) => {
    const top = base.map((b, i) => b + (s.shares[i] ?? 0));
    const pts = [...top.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`), ...base.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).reverse()];
    parts.push(`<polygon class="band" data-key="${escapeXml(s.key)}" points="${pts.join(" ")}" fill="${COLORS[k % COLORS.length]}" fill-opacity="0.85"/>`);
    // Legend: every series with its colour, first and last share (a band can be 0 at either end).
    const ly = T + 10 + k * 22;
    const first = (s.shares[0] ?? 0) * 100;
    const lastShare = (s.shares[n - 1] ?? 0) * 100;
    parts.push(`<rect x="${W - R + 10}" y="${ly - 10}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/>`);
    parts.push(
      `<text class="legend" x="${W - R + 28}" y="${ly}" font-size="12" fill="#111827">${escapeXml(s.key.length > 28 ? `${s.key.slice(0, 27)}…` : s.key)} ${first.toFixed(0)}% → ${lastShare.toFixed(0)}%</text>`,
    );
    top.forEach((v, i) => {
      base[i] = v;
    });
  });
  for (let i = 0; i <= 4; i++) parts.push(`<text x="${L - 6}" y="${y(i / 4) + 4}" text-anchor="end" font-size="11" fill="#374151">${i * 25}%</text>`);
  const ticks = Math.min(6, n);
  for (let t = 0; t < ticks; t++) {
    const i = ticks === 1 ? 0 : Math.round((t * (n - 1)) / (ticks - 1));
    parts.push(`<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle" font-size="11" fill="#374151">${escapeXml((times[i] ?? "").slice(0, 10))}</text>`);
  }
  parts.push(`<text x="20" y="${H - 12}" font-size="11" fill="#6b7280">${n} snapshots; source: weightbridge scoreboard</text></svg>`);
  return parts.join("");
}
