/**
 * Quantiles of an already sorted (ascending) list. Two definitions, each used for a reason:
 *
 * - nearestRankQuantile: a value of the data, the one at position round(p·(n − 1)). Step summaries
 *   record reward p10/p50/p90 with it (src/steps/step-summary.ts) and the report recomputes p10
 *   from the rewards files with it (src/report/step-facts.ts), so the two always match.
 * - interpolatedQuantile: linear interpolation between order statistics (Hyndman & Fan type 7,
 *   numpy's default), for bootstrap interval bounds.
 *
 * Both are 0 with no values: a step with no rewards records 0s, and callers with a real empty case
 * (the bootstrap) check for it first.
 */
export function nearestRankQuantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return sorted[Math.min(n - 1, Math.floor(p * (n - 1) + 0.5))]!;
}

export function interpolatedQuantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const position = (n - 1) * p;
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}
