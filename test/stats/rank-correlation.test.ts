import { describe, expect, it } from 'vitest';
import { kendallTauB, spearmanRho } from '../../src/stats/rank-correlation';
import { seededRandom } from '../../src/util/seeded-random';
import { gold, judge, metric } from './paired-data';

/** The pairwise definition of τ-b, O(n²): the reference the fast version must equal. */
function naiveTauB(x: number[], y: number[]): number {
  let concordantMinusDiscordant = 0;
  let untiedX = 0;
  let untiedY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      concordantMinusDiscordant += dx * dy;
      if (dx !== 0) untiedX++;
      if (dy !== 0) untiedY++;
    }
  }
  return concordantMinusDiscordant / Math.sqrt(untiedX * untiedY);
}

/** Spearman's definition written out: Pearson's r of the ranks, tied values sharing their average rank. */
function midrankSpearman(x: number[], y: number[]): number {
  const ranks = (v: number[]) => {
    const order = v.map((value, i) => [value, i] as const).sort((a, b) => a[0] - b[0]);
    const out = new Array<number>(v.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
      for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return out;
  };
  const rx = ranks(x);
  const ry = ranks(y);
  const mean = (x.length + 1) / 2;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < x.length; i++) {
    cov += (rx[i]! - mean) * (ry[i]! - mean);
    vx += (rx[i]! - mean) ** 2;
    vy += (ry[i]! - mean) ** 2;
  }
  return cov / Math.sqrt(vx * vy);
}

describe("Spearman's rho", () => {
  it('matches scipy.stats.spearmanr with ties (small case: 0.8333333333333335)', () => {
    expect(spearmanRho([1, 2, 2, 3, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4])).toBeCloseTo(0.8333333333333335, 12);
  });

  it('matches scipy on 60 heavily tied 1–5 ratings (0.821360310600301) and against a continuous metric (0.7702416083959214)', () => {
    expect(spearmanRho(judge, gold)).toBeCloseTo(0.821360310600301, 12);
    expect(spearmanRho(judge, metric)).toBeCloseTo(0.7702416083959214, 12);
  });

  it('gives tied values their average rank, so the order pairs are listed in does not matter', () => {
    const order = judge.map((_, i) => i).reverse();
    expect(spearmanRho(order.map((i) => judge[i]!), order.map((i) => gold[i]!))).toBeCloseTo(0.821360310600301, 12);
  });

  it('does not have simple-statistics#813: tied ranks by input order made ρ depend on row order', () => {
    // github.com/simple-statistics/simple-statistics/issues/813: 7.9.3 gave 0.5 and −0.5 for the
    // same three pairs listed in two orders, and 0.8 for a table with no association (midranks: 0).
    expect(spearmanRho([1, 1, 2], [1, 2, 1])).toBeCloseTo(spearmanRho([1, 1, 2], [2, 1, 1]), 12);
    expect(spearmanRho([1, 1, 2, 2], [1, 2, 1, 2])).toBeCloseTo(0, 12);
    // The six pairs: 0.25 with midranks in every order.
    expect(spearmanRho([1, 1, 2, 2, 3, 3], [1, 2, 2, 3, 1, 3])).toBeCloseTo(0.25, 12);
    expect(spearmanRho([3, 3, 2, 2, 1, 1], [3, 1, 3, 2, 2, 1])).toBeCloseTo(0.25, 12);
  });

  it('equals Pearson on average ranks, written out, on random heavily tied data (the report used to compute it so)', () => {
    const random = seededRandom(17);
    for (let trial = 0; trial < 300; trial++) {
      const n = 3 + Math.floor(random() * 40);
      const levels = 2 + Math.floor(random() * 5);
      const x = Array.from({ length: n }, () => Math.floor(random() * levels));
      const y = x.map((v) => (random() < 0.5 ? v : Math.floor(random() * levels)) * (random() < 0.1 ? 1000 : 1));
      const expected = midrankSpearman(x, y);
      if (Number.isNaN(expected)) expect(spearmanRho(x, y)).toBeNaN();
      else expect(spearmanRho(x, y)).toBeCloseTo(expected, 12);
    }
  });

  it('is 1 and −1 for monotone relations, NaN for a constant side or fewer than two pairs', () => {
    expect(spearmanRho([1, 2, 3, 4, 5], [1, 4, 9, 16, 25])).toBeCloseTo(1, 12);
    expect(spearmanRho([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearmanRho([1, 2, 3], [2, 2, 2])).toBeNaN();
    expect(spearmanRho([1], [1])).toBeNaN();
  });

  it('throws naming both lengths when the lists are not paired', () => {
    expect(() => spearmanRho([1, 2, 3], [1, 2])).toThrow(/3 values.*2/);
  });
});

describe("Kendall's tau-b", () => {
  it('matches scipy.stats.kendalltau (τ-b) with ties (small case: 0.6842105263157894)', () => {
    expect(kendallTauB([1, 2, 2, 3, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4])).toBeCloseTo(0.6842105263157894, 12);
  });

  it('matches scipy on 60 heavily tied 1–5 ratings (0.7170611538836111) and against a continuous metric (0.6157796712741987)', () => {
    expect(kendallTauB(judge, gold)).toBeCloseTo(0.7170611538836111, 12);
    expect(kendallTauB(judge, metric)).toBeCloseTo(0.6157796712741987, 12);
  });

  it('equals the pairwise definition on random tied data', () => {
    const random = seededRandom(17);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + Math.floor(random() * 80);
      const levelsX = 1 + Math.floor(random() * 6);
      const levelsY = 1 + Math.floor(random() * 6);
      const x = Array.from({ length: n }, () => Math.floor(random() * levelsX));
      const y = x.map((v) => (random() < 0.5 ? v % levelsY : Math.floor(random() * levelsY)));
      const expected = naiveTauB(x, y);
      if (Number.isNaN(expected)) expect(kendallTauB(x, y)).toBeNaN();
      else expect(kendallTauB(x, y)).toBeCloseTo(expected, 12);
    }
  });

  it('is ±1 for monotone relations, 0 for a balanced 2×2 of ties, NaN for a constant side or fewer than two pairs', () => {
    expect(kendallTauB([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(kendallTauB([1, 2, 3, 4, 5], [1, 4, 9, 16, 25])).toBeCloseTo(1, 12);
    expect(kendallTauB([1, 1, 2, 2], [1, 2, 1, 2])).toBe(0);
    expect(kendallTauB([3, 3, 3], [1, 2, 3])).toBeNaN();
    expect(kendallTauB([1], [2])).toBeNaN();
  });

  it('does not modify its inputs', () => {
    const x = [3, 1, 2];
    const y = [1, 3, 2];
    kendallTauB(x, y);
    expect(x).toEqual([3, 1, 2]);
    expect(y).toEqual([1, 3, 2]);
  });

  it('handles 100k pairs (n log n) and finds a near-zero τ for independent data', () => {
    const random = seededRandom(3);
    const x = Array.from({ length: 100_000 }, () => Math.floor(random() * 5));
    const y = Array.from({ length: 100_000 }, () => random());
    expect(Math.abs(kendallTauB(x, y))).toBeLessThan(0.01);
    expect(Math.abs(spearmanRho(x, y))).toBeLessThan(0.015);
  });

  it('throws naming both lengths when the lists are not paired', () => {
    expect(() => kendallTauB([1, 2], [1, 2, 3])).toThrow(/2 values.*3/);
  });

  it('refuses NaN and infinite scores, naming the list and item, instead of sorting them into a wrong answer', () => {
    expect(() => kendallTauB([1, 2, 3], [1, Number.NaN, 3])).toThrow(/second list has NaN at item 1/);
    expect(() => spearmanRho([1, Infinity, 3], [1, 2, 3])).toThrow(/first list has Infinity at item 1/);
  });
});
