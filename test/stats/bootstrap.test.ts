import { describe, expect, it } from 'vitest';
import { bootstrapCI } from '../../src/stats/bootstrap';
import { cohensKappa } from '../../src/stats/kappa';
import { spearmanRho } from '../../src/stats/rank-correlation';
import { seededRandom } from '../../src/util/seeded-random';
import { gold, judge } from './paired-data';

function meanOf(values: number[]): (indices: number[]) => number {
  return (indices) => {
    let sum = 0;
    for (const i of indices) sum += values[i]!;
    return sum / indices.length;
  };
}

function uniformSample(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => random());
}

describe('bootstrap confidence interval', () => {
  it('brackets the estimate, which is the statistic on the whole sample', () => {
    const values = uniformSample(400, 1);
    const ci = bootstrapCI(values.length, meanOf(values));
    expect(ci.estimate).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
    expect(ci.low).toBeLessThan(ci.estimate);
    expect(ci.high).toBeGreaterThan(ci.estimate);
  });

  it('contains the true mean of the distribution and is about ±1.96·σ/√n wide', () => {
    const values = uniformSample(1000, 2);
    const ci = bootstrapCI(values.length, meanOf(values));
    expect(ci.low).toBeLessThan(0.5);
    expect(ci.high).toBeGreaterThan(0.5);
    // Uniform(0,1): σ = 1/√12, so the normal-theory half-width at n = 1000 is 0.01789.
    expect((ci.high - ci.low) / 2).toBeGreaterThan(0.016);
    expect((ci.high - ci.low) / 2).toBeLessThan(0.02);
  });

  it('is narrower with more data (about 1/√10 as wide with 10× the items)', () => {
    const small = uniformSample(200, 3);
    const large = uniformSample(2000, 4);
    const smallWidth = bootstrapCI(small.length, meanOf(small)).high - bootstrapCI(small.length, meanOf(small)).low;
    const ci = bootstrapCI(large.length, meanOf(large));
    const largeWidth = ci.high - ci.low;
    expect(largeWidth).toBeLessThan(smallWidth);
    expect(largeWidth / smallWidth).toBeGreaterThan(0.25);
    expect(largeWidth / smallWidth).toBeLessThan(0.4);
  });

  it('covers the true mean in roughly 95 % of repeated samples', () => {
    let covered = 0;
    const trials = 200;
    for (let trial = 0; trial < trials; trial++) {
      const values = uniformSample(100, 1000 + trial);
      const ci = bootstrapCI(values.length, meanOf(values), { resamples: 500, seed: trial });
      if (ci.low <= 0.5 && 0.5 <= ci.high) covered++;
    }
    // Binomial(200, 0.95) lies in 180..198 with probability > 0.999; the percentile bootstrap
    // undercovers slightly at n = 100, which this range allows.
    expect(covered).toBeGreaterThanOrEqual(176);
    expect(covered).toBeLessThanOrEqual(199);
  });

  it('is deterministic for a seed, and a different seed gives a slightly different interval', () => {
    const values = uniformSample(300, 5);
    const first = bootstrapCI(values.length, meanOf(values), { seed: 42 });
    expect(bootstrapCI(values.length, meanOf(values), { seed: 42 })).toEqual(first);
    expect(bootstrapCI(values.length, meanOf(values))).toEqual(bootstrapCI(values.length, meanOf(values)));
    const other = bootstrapCI(values.length, meanOf(values), { seed: 43 });
    expect(other.low).not.toBe(first.low);
    expect(other.low).toBeCloseTo(first.low, 2);
  });

  it('serves paired statistics: the CI of κ for a judge that flips 20 % of balanced labels contains 0.6', () => {
    const random = seededRandom(8);
    const human = Array.from({ length: 2000 }, () => random() < 0.5);
    const flipped = human.map((label) => (random() < 0.2 ? !label : label));
    const ci = bootstrapCI(human.length, (indices) => cohensKappa(indices.map((i) => flipped[i]!), indices.map((i) => human[i]!)));
    expect(ci.low).toBeLessThan(0.6);
    expect(ci.high).toBeGreaterThan(0.6);
    expect(ci.high - ci.low).toBeLessThan(0.1);
  });

  it('leaves out resamples where the statistic is undefined, and is NaN when all are', () => {
    const ci = bootstrapCI(5, (indices) => (indices.includes(0) ? Number.NaN : indices.length), { resamples: 200 });
    expect(ci.low).toBe(5);
    expect(ci.high).toBe(5);
    const none = bootstrapCI(3, () => Number.NaN, { resamples: 10 });
    expect(none.low).toBeNaN();
    expect(none.high).toBeNaN();
    expect(bootstrapCI(0, () => 0).low).toBeNaN();
  });

  it('rejects bad options', () => {
    expect(() => bootstrapCI(10, () => 0, { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapCI(10, () => 0, { confidence: 95 })).toThrow(/confidence/);
    expect(() => bootstrapCI(-1, () => 0)).toThrow(/n must be/);
  });
});

describe('bootstrap with rank correlation', () => {
  it('gives a CI for Spearman ρ between judge and gold around the scipy value, well away from 0', () => {
    const ci = bootstrapCI(judge.length, (indices) => spearmanRho(indices.map((i) => judge[i]!), indices.map((i) => gold[i]!)));
    expect(ci.estimate).toBeCloseTo(0.821360310600301, 12);
    expect(ci.low).toBeGreaterThan(0.6);
    expect(ci.high).toBeLessThan(0.95);
  });
});
