import { describe, expect, it } from 'vitest';
import { interpolatedQuantile, nearestRankQuantile } from '../../src/stats/quantile';

describe('quantiles of a sorted list', () => {
  const tenths = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

  it('nearest rank: the value at position round(p·(n − 1)), always one of the data', () => {
    expect(nearestRankQuantile(tenths, 0.1)).toBe(0.1);
    expect(nearestRankQuantile(tenths, 0.5)).toBe(0.5);
    expect(nearestRankQuantile(tenths, 0.9)).toBe(0.9);
    expect(nearestRankQuantile([1, 2, 3, 4], 0.5)).toBe(3); // position 1.5 rounds up
    expect(nearestRankQuantile([1, 2, 3, 4], 0)).toBe(1);
    expect(nearestRankQuantile([1, 2, 3, 4], 1)).toBe(4);
    expect(nearestRankQuantile(Float64Array.from([5]), 0.9)).toBe(5);
  });

  it("interpolated: numpy.percentile's default (type 7)", () => {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 90]) → 1.75, 2.5, 3.7
    expect(interpolatedQuantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(interpolatedQuantile([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(interpolatedQuantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
    expect(interpolatedQuantile([1, 2, 3, 4], 1)).toBe(4);
  });

  it('are 0 with no values, as a step with no rewards records', () => {
    expect(nearestRankQuantile([], 0.5)).toBe(0);
    expect(interpolatedQuantile([], 0.5)).toBe(0);
  });
});
