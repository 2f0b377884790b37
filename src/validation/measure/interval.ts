import { bootstrapCI } from '../../stats';

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  resamples: number;
  confidence: number;
  seed: number;
}

/** A statistic over n paired units, with its bootstrap interval; null when there are too few units or it is undefined. */
export function withCI(n: number, statistic: (indices: readonly number[]) => number, options: BootstrapOptions): Interval | null {
  if (n < 2) return null;
  const all = Array.from({ length: n }, (_, i) => i);
  const estimate = statistic(all);
  if (!Number.isFinite(estimate)) return null;
  const ci = bootstrapCI(n, (indices) => statistic(indices), options);
  return { estimate, low: ci.low, high: ci.high };
}

export function pick<T>(values: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => values[i]!);
}

/** A number, or null when it is not one (κ of constant ratings, ρ of constant scores). */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
