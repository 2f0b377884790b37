import { seededRandom } from '../util/seeded-random';
import { interpolatedQuantile } from './quantile';

export interface BootstrapOptions {
  /** Number of resamples; default 1000. */
  resamples?: number;
  /** Two-sided coverage; default 0.95. */
  confidence?: number;
  /** PRNG seed; default 1, so the same data always gives the same interval (and is workflow-safe). */
  seed?: number;
}

/**
 * Percentile bootstrap (Efron 1979): the statistic on the whole sample, and the confidence
 * interval from its values over `resamples` index lists drawn with replacement from 0..n−1.
 * The statistic gets indices rather than values so one routine serves paired statistics (κ, ρ,
 * τ between judge and gold) as well as plain ones. Resamples on which the statistic is not a
 * finite number (a κ on a resample where a rater is constant, say) are left out of the interval;
 * if none are left, low and high are NaN. Bounds use linearly interpolated quantiles (./quantile).
 */
export function bootstrapCI(
  n: number,
  statistic: (indices: number[]) => number,
  opts: BootstrapOptions = {},
): { estimate: number; low: number; high: number } {
  const resamples = opts.resamples ?? 1000;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(n) || n < 0) throw new Error(`bootstrapCI: n must be a whole number ≥ 0, got ${n}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapCI: resamples must be a whole number ≥ 1, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`bootstrapCI: confidence must be between 0 and 1, got ${confidence}`);

  const estimate = statistic(Array.from({ length: n }, (_, i) => i));
  if (n === 0) return { estimate, low: Number.NaN, high: Number.NaN };
  const random = seededRandom(opts.seed ?? 1);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const indices = new Array<number>(n);
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    const value = statistic(indices);
    if (Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return { estimate, low: Number.NaN, high: Number.NaN };
  values.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return { estimate, low: interpolatedQuantile(values, tail), high: interpolatedQuantile(values, 1 - tail) };
}
