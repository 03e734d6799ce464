/**
 * The plotting area of an inline SVG chart (report/charts.ts, scoreboard/chart.ts): the canvas size,
 * the margins, and the one map from a fraction of an axis onto it, so each chart states only its
 * own scale (linear, log2, by index) as a fraction. Pure.
 */
export interface PlotArea {
  W: number;
  H: number;
  /** Margins: left, right, top, bottom. */
  L: number;
  R: number;
  T: number;
  B: number;
  /** x of a fraction of the horizontal axis (0: the left edge of the plot, 1: its right edge). */
  x(frac: number): number;
  /** y of a fraction of the vertical axis (0: the bottom of the plot, 1: its top). */
  y(frac: number): number;
}

export function plotArea(W: number, H: number, margins: { left: number; right: number; top: number; bottom: number }): PlotArea {
  const { left: L, right: R, top: T, bottom: B } = margins;
  return { W, H, L, R, T, B, x: (frac) => L + frac * (W - L - R), y: (frac) => T + (1 - frac) * (H - T - B) };
}
