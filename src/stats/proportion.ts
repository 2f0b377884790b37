import { normalQuantile } from './normal-quantile';

/**
 * Wilson score interval for a proportion (Wilson 1927), Newcombe's (1998) method 3. Unlike the
 * ±z·√(p(1−p)/n) interval it stays inside [0, 1] and does not collapse to a point at 0 of n,
 * which matters for rare events such as an attack that passed the judge 0 times out of 20.
 * With n = 0 every field is NaN.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): { rate: number; low: number; high: number } {
  if (!Number.isInteger(n) || n < 0) throw new Error(`wilsonInterval: n must be a whole number ≥ 0, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new Error(`wilsonInterval: successes must be a whole number from 0 to n = ${n}, got ${successes}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new Error(`wilsonInterval: confidence must be between 0 and 1, got ${confidence}`);
  if (n === 0) return { rate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const rate = successes / n;
  const z2 = z * z;
  const scale = 1 + z2 / n;
  const centre = (rate + z2 / (2 * n)) / scale;
  const halfWidth = (z / scale) * Math.sqrt((rate * (1 - rate)) / n + z2 / (4 * n * n));
  return {
    rate,
    // The clamps only remove floating-point dust at 0 of n and n of n, where the bound is exactly 0 or 1.
    low: successes === 0 ? 0 : Math.max(0, centre - halfWidth),
    high: successes === n ? 1 : Math.min(1, centre + halfWidth),
  };
}
