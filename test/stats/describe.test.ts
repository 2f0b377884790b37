import { describe, expect, it } from 'vitest';
import { meanOffset, stdDev } from '../../src/stats/describe';
import { spearmanRho } from '../../src/stats/rank-correlation';

describe('mean offset', () => {
  it('is the mean of judge − gold: a judge one point harsh everywhere has offset −1 and still ρ = 1', () => {
    const gold = [3, 4, 5, 2, 4];
    const harsh = gold.map((g) => g - 1);
    expect(meanOffset(harsh, gold)).toBe(-1);
    expect(spearmanRho(harsh, gold)).toBeCloseTo(1, 12);
    expect(meanOffset([1, 3], [2, 2])).toBe(0);
  });

  it('is NaN with no items and throws naming both lengths when unpaired', () => {
    expect(meanOffset([], [])).toBeNaN();
    expect(() => meanOffset([1, 2], [1])).toThrow(/judge list has 2 values but the gold list has 1/);
    expect(() => meanOffset([1, 2], [1, Number.NaN])).toThrow(/gold list has NaN at item 1/);
  });
});

describe('standard deviation', () => {
  it('is the sample standard deviation (n − 1): 2, 4, 4, 4, 5, 5, 7, 9 gives 2.138', () => {
    // The textbook population-sd example (σ = 2) has sample sd √(32/7) = 2.1380899352993952.
    expect(stdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('is 0 for identical values and NaN for fewer than two', () => {
    expect(stdDev([0.5, 0.5, 0.5])).toBe(0);
    expect(stdDev([1])).toBeNaN();
    expect(stdDev([])).toBeNaN();
    expect(() => stdDev([1, Number.NaN])).toThrow(/NaN at item 1/);
  });
});
