/**
 * Charts drawn with uPlot: quality vs cost (each model a point with its 95% CI bar, the Pareto
 * frontier as a line) and latency (p50, p95 and TTFT bars per model). Store text reaches uPlot only
 * as series labels, which it sets as text.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface QualityPoint {
  id: string;
  cost: number;
  quality: number;
  ci: [number, number];
  pareto: boolean;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

function useChart(make: (el: HTMLElement) => uPlot | null, deps: unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = make(ref.current);
    return () => chart?.destroy();
  }, deps);
  return ref;
}

export function QualityCostChart({ points }: { points: QualityPoint[] }) {
  const ref = useChart(
    (el) => {
      if (points.length === 0) return null;
      const xs = [...new Set(points.map((p) => p.cost))].sort((a, b) => a - b);
      const front = points.filter((p) => p.pareto).sort((a, b) => a.cost - b.cost);
      const data: (number | null)[][] = [xs];
      for (const p of points) data.push(xs.map((x) => (x === p.cost ? p.quality : null)));
      data.push(xs.map((x) => front.find((p) => p.cost === x)?.quality ?? null));
      const series: uPlot.Series[] = [
        { label: "cost (USD)" },
        ...points.map((p, i) => ({ label: p.id, stroke: COLORS[i % COLORS.length] as string, paths: () => null, points: { show: true, size: 10 } })),
        { label: "Pareto frontier", stroke: "#64748b", dash: [4, 4], spanGaps: true, points: { show: false } },
      ];
      const ciBars = (u: uPlot) => {
        const ctx = u.ctx;
        points.forEach((p, i) => {
          const x = u.valToPos(p.cost, "x", true);
          ctx.save();
          ctx.strokeStyle = COLORS[i % COLORS.length] as string;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, u.valToPos(p.ci[0], "y", true));
          ctx.lineTo(x, u.valToPos(p.ci[1], "y", true));
          ctx.stroke();
          ctx.restore();
        });
      };
      const lo = Math.min(...points.map((p) => p.ci[0]));
      const hi = Math.max(...points.map((p) => p.ci[1]));
      const pad = (Math.max(...xs) - Math.min(...xs)) * 0.1 || Math.max(...xs) * 0.5 || 1;
      return new uPlot(
        {
          width: Math.min(el.clientWidth || 640, 720),
          height: 300,
          series,
          scales: {
            x: { time: false, range: [Math.max(0, Math.min(...xs) - pad), Math.max(...xs) + pad] },
            y: { range: [Math.max(0, lo - 0.05), Math.min(1.05, hi + 0.05)] },
          },
          axes: [{ label: "cost (USD)", values: (_u, v) => v.map((x) => (x === 0 ? "0" : `$${x.toPrecision(2)}`)) }, { label: "quality" }],
          hooks: { draw: [ciBars] },
          cursor: { drag: { x: false, y: false } },
          legend: { live: false },
        },
        data as uPlot.AlignedData,
        el,
      );
    },
    [JSON.stringify(points)],
  );
  return <div class="chart" role="img" ref={ref} aria-label="quality vs cost" />;
}

export interface LatencyRow {
  id: string;
  p50: number | null;
  p95: number | null;
  ttft: number | null;
}

export function LatencyChart({ rows }: { rows: LatencyRow[] }) {
  const ref = useChart(
    (el) => {
      if (rows.length === 0) return null;
      // Slot 4i, 4i+1, 4i+2 hold model i's p50, p95 and TTFT bars; 4i+3 is the gap between models.
      const xs = rows.flatMap((_, i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);
      const bars = uPlot.paths.bars?.({ size: [0.9, 60] });
      const at = (k: number, v: (r: LatencyRow) => number | null) => xs.map((x) => (x % 4 === k ? v(rows[Math.floor(x / 4)] as LatencyRow) : null));
      const mk = (label: string, color: string): uPlot.Series => ({ label, stroke: color, fill: color, paths: bars, points: { show: false } });
      return new uPlot(
        {
          width: Math.min(el.clientWidth || 640, 720),
          height: 260,
          series: [{ label: "model" }, mk("p50", "#2563eb"), mk("p95", "#93c5fd"), mk("TTFT p50", "#16a34a")],
          scales: { x: { time: false, range: [-1, xs.length - 1] }, y: { range: (_u, _min, max) => [0, (max || 1) * 1.1] } },
          axes: [{ splits: () => rows.map((_, i) => 4 * i + 1), values: (_u, v) => v.map((x) => rows[Math.floor(x / 4)]?.id ?? "") }, { label: "ms" }],
          cursor: { drag: { x: false, y: false } },
          legend: { live: false },
        },
        [xs, at(0, (r) => r.p50), at(1, (r) => r.p95), at(2, (r) => r.ttft)] as uPlot.AlignedData,
        el,
      );
    },
    [JSON.stringify(rows)],
  );
  return <div class="chart" role="img" ref={ref} aria-label="latency" />;
}

export interface SeriesChartProps {
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  yLabel: string;
  /** Seconds added on each side when there is a single point. */
  pad?: number;
}

/** A time series (seconds since the epoch on x), for gateway traffic and scoreboard shares. */
export function TimeChart({ x, series, yLabel, pad = 3600 }: SeriesChartProps) {
  const ref = useChart(
    (el) => {
      if (x.length === 0) return null;
      return new uPlot(
        {
          width: Math.min(el.clientWidth || 640, 900),
          height: 220,
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length] as string, points: { show: x.length < 60 } }))],
          axes: [{}, { label: yLabel }],
          legend: { live: false },
          // A fixed x range padded by a bucket: left to itself uPlot spans years around a lone point.
          scales: { x: { auto: false, range: [Math.min(...x) - pad, Math.max(...x) + pad] }, y: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
        },
        [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
        el,
      );
    },
    [JSON.stringify([x, series])],
  );
  return <div class="chart" ref={ref} />;
}
