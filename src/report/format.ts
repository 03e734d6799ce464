/** Number formatting shared by the renderers. */
export const pct = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? "—" : `${(x * 100).toFixed(digits)}%`);
export const ci = (c: [number, number] | null) => (c ? `${pct(c[0])}–${pct(c[1])}` : "—");
export const usd = (x: number | null) => (x === null ? "—" : x < 0.01 ? `$${x.toFixed(5)}` : `$${x.toFixed(4)}`);
export const msf = (x: number | null) => (x === null ? "—" : `${Math.round(x)} ms`);
export const pv = (p: number | null) => (p === null ? "—" : p < 0.001 ? "< 0.001" : p.toFixed(3));
export const VERDICT_LABEL = { adopt: "ADOPT", reject: "REJECT", inconclusive: "INCONCLUSIVE", incomplete: "INCOMPLETE", error: "ERROR" } as const;
/** One line of a stored error message (provider errors may carry an HTML page). */
export const oneLine = (s: string, n = 160) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
};
