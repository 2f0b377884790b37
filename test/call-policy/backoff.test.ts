import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../../src/call-policy/backoff';

describe('fullJitterDelay', () => {
  const options = { baseMs: 100, capMs: 5_000 };

  it('stays within [0, min(cap, base * 2^attempt)] for any random draw', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(5_000, 100 * 2 ** attempt);
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const delay = fullJitterDelay(attempt, options, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(delay).toBeCloseTo(r * ceiling);
      }
    }
  });

  it('uses the whole window: the lowest draw waits nothing', () => {
    expect(fullJitterDelay(6, options, () => 0)).toBe(0);
  });

  it('grows the window exponentially with the attempt until the cap', () => {
    const top = (attempt: number) => fullJitterDelay(attempt, options, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 100, 5000].map(top)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('keeps a misbehaving random source inside the bounds', () => {
    expect(fullJitterDelay(2, options, () => 7)).toBe(400);
    expect(fullJitterDelay(2, options, () => -1)).toBe(0);
  });

  it('stays within bounds with the real random source', () => {
    for (let i = 0; i < 1000; i++) {
      const delay = fullJitterDelay(i % 10, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(5_000, 100 * 2 ** (i % 10)));
    }
  });

  it('rejects a negative or fractional attempt', () => {
    expect(() => fullJitterDelay(-1, options)).toThrow(RangeError);
    expect(() => fullJitterDelay(1.5, options)).toThrow(RangeError);
  });
});
