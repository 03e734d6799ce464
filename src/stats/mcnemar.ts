/**
 * Exact McNemar test (two-sided): under H0 the discordant pairs split 50/50, so
 * b ~ Binomial(b + c, 1/2). Returns the two-sided p-value (capped at 1).
 */
export function mcnemarExact(candidate: readonly number[], baseline: readonly number[]): number {
  let b = 0; // candidate passed, baseline failed
  let c = 0; // baseline passed, candidate failed
  for (let i = 0; i < candidate.length; i++) {
    const x = candidate[i] === 1;
    const y = baseline[i] === 1;
    if (x && !y) b++;
    else if (!x && y) c++;
  }
  return mcnemarExactFromCounts(b, c);
}

export function mcnemarExactFromCounts(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P(X <= k) for X ~ Bin(n, 1/2), summed in log space for stability.
  let logTerm = -n * Math.LN2; // log C(n,0) / 2^n
  let cdf = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logTerm);
  }
  return Math.min(1, 2 * cdf);
}
