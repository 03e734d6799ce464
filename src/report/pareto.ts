/** Pareto frontier of (cost, quality): nothing else is at least as cheap and at least as good, and better in one. */
export function paretoFrontier<T extends { cost: number; quality: number }>(points: readonly T[]): Set<T> {
  const out = new Set<T>();
  for (const p of points) {
    const dominated = points.some((q) => q !== p && q.cost <= p.cost && q.quality >= p.quality && (q.cost < p.cost || q.quality > p.quality));
    if (!dominated) out.add(p);
  }
  return out;
}
