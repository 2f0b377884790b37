import { nearestRankQuantile } from '../stats/quantile';

/** How far rewards moved between two versions: quantiles of every compared shift, and a histogram of the non-zero ones. */
export interface ShiftDistribution {
  /** Of every compared rollout's shift (B − A), zeros included; nearest-rank, as step summaries record rewards. */
  quantiles: { min: number; p10: number; p50: number; p90: number; max: number } | null;
  /** Changed rollouts only (the unchanged are counted apart): bins [from, to) of width binWidth, empty bins left out. */
  histogram: { from: number; to: number; count: number }[];
}

/** A shift this small is the same reward written twice, not a change (rewards are sums of weighted floats). */
export const SAME_REWARD = 1e-9;

export function isChange(shift: number): boolean {
  return Math.abs(shift) > SAME_REWARD;
}

export function shiftDistribution(shifts: readonly number[], binWidth: number): ShiftDistribution {
  if (shifts.length === 0) return { quantiles: null, histogram: [] };
  const sorted = [...shifts].sort((x, y) => x - y);
  const q = (p: number) => nearestRankQuantile(sorted, p);
  const bins = new Map<number, number>();
  for (const shift of sorted.filter(isChange)) {
    // Rounded before the floor: -0.2 / 0.1 is -2.0000000000000004 in floats, and belongs in [-0.2, -0.1).
    const bin = Math.floor(Number((shift / binWidth).toFixed(9)));
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
  }
  const edge = (bin: number) => Number((bin * binWidth).toFixed(9));
  return {
    quantiles: { min: sorted[0]!, p10: q(0.1), p50: q(0.5), p90: q(0.9), max: sorted.at(-1)! },
    histogram: [...bins.entries()].sort(([x], [y]) => x - y).map(([bin, count]) => ({ from: edge(bin), to: edge(bin + 1), count })),
  };
}
