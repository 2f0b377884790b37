import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../src/stats/normal-quantile';
import { wilsonInterval } from '../../src/stats/proportion';

describe('Wilson score interval', () => {
  it('matches Newcombe (1998), Statistics in Medicine 17:857–872, Table II method 3 (score, no continuity correction)', () => {
    // Newcombe's worked examples, 95 % intervals to four decimals.
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [successes, n, low, high] of cases) {
      const interval = wilsonInterval(successes, n);
      expect(interval.rate).toBe(successes / n);
      expect(interval.low).toBeCloseTo(low, 4);
      expect(interval.high).toBeCloseTo(high, 4);
    }
  });

  it('is wider at 99 % than at 95 %, narrower with more data, and stays inside [0, 1]', () => {
    const at95 = wilsonInterval(30, 100);
    const at99 = wilsonInterval(30, 100, 0.99);
    expect(at99.low).toBeLessThan(at95.low);
    expect(at99.high).toBeGreaterThan(at95.high);
    const more = wilsonInterval(300, 1000);
    expect(more.high - more.low).toBeLessThan(at95.high - at95.low);
    const all = wilsonInterval(20, 20);
    expect(all.high).toBe(1);
    expect(all.low).toBeGreaterThan(0.8);
  });

  it('is NaN with no trials and rejects impossible counts', () => {
    expect(wilsonInterval(0, 0).rate).toBeNaN();
    expect(() => wilsonInterval(5, 4)).toThrow(/successes must be a whole number from 0 to n = 4, got 5/);
    expect(() => wilsonInterval(1.5, 4)).toThrow(/successes/);
    expect(() => wilsonInterval(1, 4, 1)).toThrow(/confidence/);
  });
});

describe('normal quantile', () => {
  it('matches standard table values to 1e-12', () => {
    // Φ⁻¹(0.975) = 1.959963984540054, Φ⁻¹(0.995) = 2.5758293035489004, Φ⁻¹(0.05) = −1.6448536269514729 (scipy.stats.norm.ppf)
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 12);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.6448536269514729, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
  });
});
