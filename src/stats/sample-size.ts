/**
 * How many cases it takes to decide: the n at which the quality ratio's 95% interval clears the
 * non-inferiority margin (adopt when the true ratio is above it, reject when below) with the given
 * power. Normal approximation on the log ratio of paired pass rates (delta method with the case
 * correlation), planned at the pilot's estimates shrunk by half a case per cell so a pilot with no
 * discordant case still plans. Below SIMULATE_UP_TO (1,000) cases the approximation is refined by simulating
 * the real MOVER interval (it is conservative at small n and high accuracy, where the normal
 * approximation promised 80% power and delivered 3%); checked by simulation in test/stats.
 */
import { normQuantile } from "./normal.js";
import { moverRatioCi, type PairedTable } from "./paired-binary.js";
import { seededRng } from "./rng.js";

export interface SampleSizeInput {
  /** Cell probabilities or pilot counts (both, candidate only, baseline only, neither). */
  table: PairedTable;
  margin: number;
  power: number;
  /** Two-sided level of the interval (0.05: a 95% interval, one-sided 2.5% per bound). */
  alpha?: number;
  /** Simulated runs per candidate n below SIMULATE_UP_TO (default 1,000; summaries' "about N more" use fewer). */
  sims?: number;
}

export interface SampleSize {
  /** Cases needed (whole cases); null when the planning ratio equals the margin (no n decides). */
  cases: number | null;
  /** The ratio the plan assumes (candidate / baseline pass rate). */
  ratio: number;
  /** Which way the run is expected to decide. */
  direction: "adopt" | "reject" | "undecidable";
  /** Per-case variance of the log ratio used. */
  variance: number;
  /** How n was found: the normal approximation, or simulation of the real interval. */
  method: "normal-approximation" | "simulation";
}

export const MAX_PLANNED_CASES = 10_000_000;

const memo = new Map<string, SampleSize>();

/** Memoised (a run's suites often share a table): same input, same answer, simulated once. */
export function casesToDecide(input: SampleSizeInput): SampleSize {
  const t = input.table;
  const key = `${t.both},${t.candOnly},${t.baseOnly},${t.neither},${input.margin},${input.power},${input.alpha ?? 0.05},${input.sims ?? POWER_SIMS}`;
  const hit = memo.get(key);
  if (hit) return { ...hit };
  const out = plan(input);
  if (memo.size > 5000) memo.clear();
  memo.set(key, out);
  return { ...out };
}

function plan(input: SampleSizeInput): SampleSize {
  const t = input.table;
  const total = t.both + t.candOnly + t.baseOnly + t.neither;
  const isCounts = total > 1.000001;
  const s = isCounts ? 0.5 : 0;
  const n = total + 4 * s;
  const p11 = (t.both + s) / n;
  const p1 = (t.both + t.candOnly + 2 * s) / n;
  const p2 = (t.both + t.baseOnly + 2 * s) / n;
  const ratio = p1 / p2;
  const variance = Math.max(1e-12, (1 - p1) / p1 + (1 - p2) / p2 - (2 * (p11 - p1 * p2)) / (p1 * p2));
  const gap = Math.abs(Math.log(ratio) - Math.log(input.margin));
  const z = normQuantile(1 - (input.alpha ?? 0.05) / 2) + normQuantile(input.power);
  const raw = gap > 0 ? (z * z * variance) / (gap * gap) : Number.POSITIVE_INFINITY;
  if (!(raw <= MAX_PLANNED_CASES)) return { cases: null, ratio, direction: "undecidable", variance, method: "normal-approximation" };
  const direction = ratio > input.margin ? "adopt" : "reject";
  const n0 = Math.max(2, Math.ceil(raw));
  if (n0 > SIMULATE_UP_TO) return { cases: n0, ratio, direction, variance, method: "normal-approximation" };
  const cells: Cells4 = [p11, p1 - p11, p2 - p11, 1 - p1 - p2 + p11];
  const power = (m: number) => simulatedPower(cells, m, input.margin, direction, input.alpha ?? 0.05, input.sims ?? POWER_SIMS);
  let hi = n0;
  while (power(hi) < input.power && hi < 4 * SIMULATE_UP_TO) hi = Math.ceil(hi * 1.3);
  let lo = Math.max(1, Math.floor(n0 / 3));
  if (lo > 1 && power(lo) >= input.power) lo = 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (power(mid) >= input.power) hi = mid;
    else lo = mid;
  }
  return { cases: hi, ratio, direction, variance, method: "simulation" };
}

type Cells4 = [number, number, number, number];
export const SIMULATE_UP_TO = 1000;
const POWER_SIMS = 1000;

/** Share of simulated runs of n cases whose 95% ratio interval decides in the expected direction (common random numbers). */
export function simulatedPower(cells: Cells4, n: number, margin: number, direction: "adopt" | "reject", alpha = 0.05, sims = POWER_SIMS): number {
  const rng = seededRng(8675309);
  const z = normQuantile(1 - alpha / 2);
  const c1 = cells[0];
  const c2 = c1 + cells[1];
  const c3 = c2 + cells[2];
  let decided = 0;
  for (let s = 0; s < sims; s++) {
    const t: PairedTable = { both: 0, candOnly: 0, baseOnly: 0, neither: 0 };
    for (let i = 0; i < n; i++) {
      const u = rng();
      if (u < c1) t.both++;
      else if (u < c2) t.candOnly++;
      else if (u < c3) t.baseOnly++;
      else t.neither++;
    }
    const ci = moverRatioCi(t, z);
    if (ci && (direction === "adopt" ? ci[0] >= margin : ci[1] < margin)) decided++;
  }
  return decided / sims;
}
