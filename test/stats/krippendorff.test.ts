import { describe, expect, it } from 'vitest';
import { krippendorffAlpha, type ReliabilityValue } from '../../src/stats/krippendorff';
import { seededRandom } from '../../src/util/seeded-random';
import { randomCategories } from './paired-data';

const _ = null;

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
// twelve units, values 1–5, missing data. The paper gives α = 0.743 (nominal), 0.815 (ordinal),
// 0.849 (interval); the Python `krippendorff` package reproduces all three (0.743421052631579,
// 0.8153875037548814, 0.8491071428571428).
const krippendorff2011 = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
  [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
];

// en.wikipedia.org/wiki/Krippendorff's_alpha, "A computational example": three coders, fifteen
// units, values 1–4. The article gives α = 0.691 (nominal) and 0.811 (interval); the
// `krippendorff` package gives 0.691358024691358, 0.8108448928121059 and 0.8067214199413153 (ordinal).
const wikipedia = [
  [_, _, _, _, _, 3, 4, 1, 2, 1, 1, 3, 3, _, 3],
  [1, _, 2, 1, 3, 3, 4, 3, _, _, _, _, _, _, _],
  [_, _, 2, 1, 3, 4, 4, _, 2, 1, 1, 3, 3, _, 4],
];

describe("Krippendorff's alpha", () => {
  it('matches Krippendorff (2011), nominal with missing data: α = 0.743', () => {
    expect(krippendorffAlpha(krippendorff2011, 'nominal')).toBeCloseTo(0.743421052631579, 12);
  });

  it('matches Krippendorff (2011), same data as ordinal: α = 0.815, and as interval: α = 0.849', () => {
    expect(krippendorffAlpha(krippendorff2011, 'ordinal')).toBeCloseTo(0.8153875037548814, 12);
    expect(krippendorffAlpha(krippendorff2011, 'interval')).toBeCloseTo(0.8491071428571428, 12);
  });

  it('matches Krippendorff (2011), binary data, two observers, no missing data: α = 0.095', () => {
    // Same paper, section A: ten units coded 0/1; α = 1 − (n−1)·o₀₁ / (n₀·n₁) = 1 − 19·4 / (14·6) = 0.095.
    const binary = [
      [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
      [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
    ];
    expect(krippendorffAlpha(binary, 'nominal')).toBeCloseTo(0.09523809523809523, 12);
    expect(krippendorffAlpha(binary, 'interval')).toBeCloseTo(0.09523809523809523, 12);
  });

  it('matches the Wikipedia computational example: nominal 0.691, interval 0.811 (ordinal 0.807 from the krippendorff package)', () => {
    expect(krippendorffAlpha(wikipedia, 'nominal')).toBeCloseTo(0.691358024691358, 12);
    expect(krippendorffAlpha(wikipedia, 'interval')).toBeCloseTo(0.8108448928121059, 12);
    expect(krippendorffAlpha(wikipedia, 'ordinal')).toBeCloseTo(0.8067214199413153, 12);
  });

  it('takes string categories for nominal data', () => {
    const labels = krippendorff2011.map((row) => row.map((v) => (v === null ? null : `grade-${v}`)));
    expect(krippendorffAlpha(labels, 'nominal')).toBeCloseTo(0.743421052631579, 12);
  });

  it('does not depend on the order of coders or units', () => {
    const reversedCoders = [...krippendorff2011].reverse();
    const reversedUnits = krippendorff2011.map((row) => [...row].reverse());
    for (const level of ['nominal', 'ordinal', 'interval'] as const) {
      const alpha = krippendorffAlpha(krippendorff2011, level);
      expect(krippendorffAlpha(reversedCoders, level)).toBeCloseTo(alpha, 12);
      expect(krippendorffAlpha(reversedUnits, level)).toBeCloseTo(alpha, 12);
    }
  });

  it('ordinal α sees only order (any increasing relabelling keeps it); interval α survives affine changes only', () => {
    const stretched = krippendorff2011.map((row) => row.map((v) => (v === null ? null : v ** 3)));
    expect(krippendorffAlpha(stretched, 'ordinal')).toBeCloseTo(0.8153875037548814, 12);
    expect(krippendorffAlpha(stretched, 'interval')).not.toBeCloseTo(0.8491071428571428, 3);
    const affine = krippendorff2011.map((row) => row.map((v) => (v === null ? null : 10 * v - 7)));
    expect(krippendorffAlpha(affine, 'interval')).toBeCloseTo(0.8491071428571428, 12);
  });

  it('ignores units with fewer than two values: adding them changes nothing', () => {
    const padded = krippendorff2011.map((row, coder) => [...row, coder === 0 ? 5 : _, _]);
    for (const level of ['nominal', 'ordinal', 'interval'] as const) {
      expect(krippendorffAlpha(padded, level)).toBeCloseTo(krippendorffAlpha(krippendorff2011, level), 12);
    }
  });

  it('is 1 for perfect agreement at every level, and undefined (NaN) when every value is the same, as κ is', () => {
    const labels = randomCategories(500, 5, 21);
    const perfect = [labels, [...labels], [...labels]];
    for (const level of ['nominal', 'ordinal', 'interval'] as const) {
      expect(krippendorffAlpha(perfect, level)).toBe(1);
      // D_e = 0: no variation, nothing beyond chance to measure (src/stats/README.md).
      expect(krippendorffAlpha([[3, 3, _], [3, 3, 3]], level)).toBeNaN();
    }
  });

  it('is near 0 for independent random coders (n = 20000)', () => {
    const coders = [randomCategories(20000, 5, 31), randomCategories(20000, 5, 32), randomCategories(20000, 5, 33)];
    for (const level of ['nominal', 'ordinal', 'interval'] as const) {
      expect(Math.abs(krippendorffAlpha(coders, level))).toBeLessThan(0.05);
    }
  });

  it('is NaN when no unit has two values', () => {
    expect(krippendorffAlpha([[1, _], [_, 2]], 'nominal')).toBeNaN();
    expect(krippendorffAlpha([], 'nominal')).toBeNaN();
  });

  it('handles 100k units of continuous scores quickly (linear, no value-by-value matrix)', () => {
    const random = seededRandom(5);
    const truth = Array.from({ length: 100_000 }, () => random());
    const coders: ReliabilityValue[][] = [0, 1, 2].map(() => truth.map((t) => (random() < 0.1 ? null : t + (random() - 0.5) * 0.1)));
    // true variance 1/12, noise variance 0.01/12: α ≈ 1 − 0.01 / 1.01 ≈ 0.990
    expect(krippendorffAlpha(coders, 'interval')).toBeCloseTo(0.99, 2);
    expect(krippendorffAlpha(coders, 'ordinal')).toBeGreaterThan(0.98);
  });

  it('rejects unequal coder rows, non-numbers at ordinal or interval level, and NaN', () => {
    expect(() => krippendorffAlpha([[1, 2, 3], [1, 2]], 'nominal')).toThrow(/coder 0 has 3 units but coder 1 has 2/);
    expect(() => krippendorffAlpha([['a', 'b'], ['a', 'b']], 'ordinal')).toThrow(/coder 0, unit 0 has "a"; ordinal data must be finite numbers/);
    expect(() => krippendorffAlpha([[1, Number.NaN], [1, 2]], 'nominal')).toThrow(/coder 0, unit 1 is NaN/);
    expect(() => krippendorffAlpha([[1, Number.NaN], [1, 2]], 'interval')).toThrow(/coder 0, unit 1 is NaN/);
  });
});
