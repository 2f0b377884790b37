import { describe, expect, it } from 'vitest';
import { cohensKappa, cohensKappaFromTable, weightedKappa } from '../../src/stats/kappa';
import { seededRandom } from '../../src/util/seeded-random';
import { expandTable, gold, judge, randomCategories } from './paired-data';

describe("Cohen's kappa", () => {
  it('matches the Wikipedia "Cohen\'s kappa" worked example: 20 / 5 / 10 / 15 gives κ = 0.4', () => {
    // en.wikipedia.org/wiki/Cohen's_kappa, "Simple example": 50 grant proposals, both say yes 20,
    // A yes B no 5, A no B yes 10, both no 15; p_o = 0.7, p_e = 0.5, κ = 0.4.
    const { a, b } = expandTable([
      [20, 5],
      [10, 15],
    ]);
    expect(cohensKappa(a, b)).toBeCloseTo(0.4, 12);
  });

  it('matches the Wikipedia "same percentages but different numbers" tables: κ = 0.1304 and 0.2593 at 60 % agreement', () => {
    // Same article: both tables have p_o = 0.60, but the marginals differ, so κ = 0.1304 and 0.2593.
    const first = expandTable([
      [45, 15],
      [25, 15],
    ]);
    const second = expandTable([
      [25, 35],
      [5, 35],
    ]);
    expect(cohensKappa(first.a, first.b)).toBeCloseTo(0.1304, 4);
    expect(cohensKappa(second.a, second.b)).toBeCloseTo(0.2593, 4);
  });

  it("matches Gwet's 3×3 abstractor table: κ = 0.7964094", () => {
    // Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.: 100 pregnancies classified by two
    // abstractors (Ectopic, AIU, NIU); the irrCAC package ships it as cont3x3abstractors and its
    // documented kappa2.table output is Cohen's kappa 0.7964094.
    const { a, b } = expandTable([
      [13, 0, 0],
      [0, 20, 7],
      [0, 4, 56],
    ]);
    expect(cohensKappa(a, b)).toBeCloseTo(0.7964094, 7);
  });

  it("agrees with scikit-learn's cohen_kappa_score on 60 ordinal ratings (0.41686914265879904)", () => {
    expect(cohensKappa(judge, gold)).toBeCloseTo(0.41686914265879904, 12);
  });

  it('takes any category type and does not confuse 1 with "1"', () => {
    expect(cohensKappa(['pass', 'fail', 'pass', 'fail'], ['pass', 'fail', 'pass', 'fail'])).toBe(1);
    expect(cohensKappa([true, false, true, false], [false, true, false, true])).toBe(-1);
    // Were 1 and "1" the same category this would be 1; as different categories nothing agrees, and nothing could by chance.
    expect(cohensKappa<number | string>([1, 2, 1, 2], ['1', '2', '1', '2'])).toBe(0);
  });

  it('is 1 for perfect agreement over several categories, and undefined (NaN) when both raters are constant and equal', () => {
    const labels = randomCategories(1000, 4, 7);
    expect(cohensKappa(labels, [...labels])).toBe(1);
    // Chance agreement is total (p_e = 1): 0/0, nothing beyond chance to measure (src/stats/README.md).
    expect(cohensKappa(['pass', 'pass', 'pass'], ['pass', 'pass', 'pass'])).toBeNaN();
    expect(cohensKappa([false, false], [false, false])).toBeNaN();
  });

  it('is 0 when one rater is constant and the other is not, and NaN with no items', () => {
    expect(cohensKappa([true, true, true, true], [true, false, true, false])).toBe(0);
    expect(cohensKappa([], [])).toBeNaN();
  });

  it('is near 0 for independent random raters (n = 20000)', () => {
    const kappa = cohensKappa(randomCategories(20000, 2, 1), randomCategories(20000, 2, 2));
    expect(Math.abs(kappa)).toBeLessThan(0.05);
    const manyCategories = cohensKappa(randomCategories(20000, 5, 3), randomCategories(20000, 5, 4));
    expect(Math.abs(manyCategories)).toBeLessThan(0.05);
  });

  it('recovers the κ implied by an injected flip rate: 20 % flips on balanced labels gives κ = 0.6', () => {
    const random = seededRandom(99);
    const human = Array.from({ length: 20000 }, () => random() < 0.5);
    const flipped = human.map((label) => (random() < 0.2 ? !label : label));
    // p_o = 0.8 and p_e = 0.5, so κ = (0.8 − 0.5) / 0.5 = 0.6
    expect(cohensKappa(flipped, human)).toBeGreaterThan(0.58);
    expect(cohensKappa(flipped, human)).toBeLessThan(0.62);
  });

  it('throws naming both lengths when the lists are not paired', () => {
    expect(() => cohensKappa([1, 2, 3], [1, 2])).toThrow(/3 values.*2/);
    expect(() => cohensKappa([1, Number.NaN], [1, 2])).toThrow(/item 1 is NaN in the first list/);
  });
});

describe("Cohen's kappa from a table of counts", () => {
  it('gives the Wikipedia example (κ = 0.4) and Gwet\'s 3×3 table (κ = 0.7964094) from their counts', () => {
    expect(cohensKappaFromTable([
      [20, 5],
      [10, 15],
    ])).toBeCloseTo(0.4, 12);
    expect(cohensKappaFromTable([
      [13, 0, 0],
      [0, 20, 7],
      [0, 4, 56],
    ])).toBeCloseTo(0.7964094, 7);
  });

  it('equals cohensKappa on the items the table counts, on random 2×2 and 4×4 tables, degenerate ones included', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 300; trial++) {
      const k = trial % 2 === 0 ? 2 : 4;
      const sparse = random() < 0.3; // mostly empty tables: one filled cell, one filled row, ...
      const table = Array.from({ length: k }, () => Array.from({ length: k }, () => (sparse && random() < 0.8 ? 0 : Math.floor(random() * 6))));
      const { a, b } = expandTable(table);
      const fromItems = cohensKappa(a, b);
      const fromTable = cohensKappaFromTable(table);
      if (Number.isNaN(fromItems)) expect(fromTable, JSON.stringify(table)).toBeNaN();
      else expect(fromTable, JSON.stringify(table)).toBeCloseTo(fromItems, 12);
    }
  });

  it('is NaN with no items and with every item in one diagonal cell, 0 when one rater is constant', () => {
    expect(cohensKappaFromTable([[0, 0], [0, 0]])).toBeNaN();
    expect(cohensKappaFromTable([[7, 0], [0, 0]])).toBeNaN();
    expect(cohensKappaFromTable([[0, 0], [0, 3]])).toBeNaN();
    expect(cohensKappaFromTable([[3, 1], [0, 0]])).toBe(0);
  });

  it('throws on a table that is not square or holds a count that is not a whole number ≥ 0', () => {
    expect(() => cohensKappaFromTable([[1, 2], [3]])).toThrow(/must be square/);
    expect(() => cohensKappaFromTable([[1, -1], [0, 2]])).toThrow(/count \[0\]\[1\] is -1/);
    expect(() => cohensKappaFromTable([[1, 0.5], [0, 2]])).toThrow(/whole numbers/);
  });
});

describe('weighted kappa', () => {
  const abstractors = expandTable([
    [13, 0, 0],
    [0, 20, 7],
    [0, 4, 56],
  ]);

  it("matches Gwet's 3×3 abstractor table with quadratic weights: κw = 0.8921569", () => {
    // irrCAC documentation: kappa2.table(cont3x3abstractors, weights = quadratic.weights(1:3)) gives 0.8921569.
    expect(weightedKappa(abstractors.a, abstractors.b, { categories: [0, 1, 2], weights: 'quadratic' })).toBeCloseTo(0.8921569, 7);
  });

  it("agrees with scikit-learn on the same table with linear weights (0.8429020279920023)", () => {
    expect(weightedKappa(abstractors.a, abstractors.b, { categories: [0, 1, 2], weights: 'linear' })).toBeCloseTo(0.8429020279920023, 12);
  });

  it('agrees with scikit-learn on 60 ordinal 1–5 ratings: linear 0.6410090556274256, quadratic 0.800580130529369', () => {
    const categories = [1, 2, 3, 4, 5];
    expect(weightedKappa(judge, gold, { categories, weights: 'linear' })).toBeCloseTo(0.6410090556274256, 12);
    expect(weightedKappa(judge, gold, { categories, weights: 'quadratic' })).toBeCloseTo(0.800580130529369, 12);
    expect(weightedKappa(judge, gold, { categories })).toBeCloseTo(0.800580130529369, 12);
  });

  it('agrees with scikit-learn on the Fleiss, Cohen & Everitt (1969) 3×3 table: linear 0.4923077, quadratic 0.5666667', () => {
    const { a, b } = expandTable([
      [106, 10, 4],
      [22, 28, 10],
      [2, 12, 6],
    ]);
    expect(weightedKappa(a, b, { categories: [0, 1, 2], weights: 'linear' })).toBeCloseTo(0.49230769230769234, 12);
    expect(weightedKappa(a, b, { categories: [0, 1, 2], weights: 'quadratic' })).toBeCloseTo(0.5666666666666667, 12);
  });

  it('uses positions in categories, so unlisted gaps in the scale do not change it', () => {
    const spaced = judge.map((v) => v * 10);
    const spacedGold = gold.map((v) => v * 10);
    expect(weightedKappa(spaced, spacedGold, { categories: [10, 20, 30, 40, 50] })).toBeCloseTo(0.800580130529369, 12);
  });

  it('counts unused categories by position: one at the end changes nothing, one in the middle widens the distances', () => {
    // Every weight scales by the same factor when a category is added at the end, so κw is unchanged;
    // a category between 2 and 3 makes every disagreement across it one step further apart.
    const atEnd = weightedKappa(judge, gold, { categories: [1, 2, 3, 4, 5, 6], weights: 'linear' });
    expect(atEnd).toBeCloseTo(0.6410090556274256, 12);
    const inMiddle = weightedKappa(judge, gold, { categories: [1, 2, 2.5, 3, 4, 5], weights: 'linear' });
    expect(inMiddle).not.toBeCloseTo(0.6410090556274256, 3);
  });

  it('equals Cohen\'s κ with two categories, whatever the weights', () => {
    const { a, b } = expandTable([
      [20, 5],
      [10, 15],
    ]);
    expect(weightedKappa(a, b, { categories: [0, 1], weights: 'linear' })).toBeCloseTo(0.4, 12);
    expect(weightedKappa(a, b, { categories: [0, 1], weights: 'quadratic' })).toBeCloseTo(0.4, 12);
  });

  it('is 1 for perfect agreement, NaN when both raters are constant and equal, near 0 for independent raters (n = 20000)', () => {
    const categories = [0, 1, 2, 3, 4];
    const labels = randomCategories(1000, 5, 5);
    expect(weightedKappa(labels, [...labels], { categories })).toBe(1);
    expect(weightedKappa([2, 2, 2], [2, 2, 2], { categories })).toBeNaN();
    const independent = weightedKappa(randomCategories(20000, 5, 8), randomCategories(20000, 5, 9), { categories });
    expect(Math.abs(independent)).toBeLessThan(0.05);
  });

  it('throws on a score outside the categories, naming the value and item, and on unpaired lists', () => {
    expect(() => weightedKappa([1, 2, 7], [1, 2, 3], { categories: [1, 2, 3] })).toThrow(/first list has 7 at item 2/);
    expect(() => weightedKappa([1, 2], [1, 2, 3], { categories: [1, 2, 3] })).toThrow(/2 values.*3/);
    expect(() => weightedKappa([1], [1], { categories: [1, 1, 2] })).toThrow(/listed twice/);
    expect(() => weightedKappa([1, 5], [1, 1], { categories: [1] })).toThrow(/first list has 5 at item 1/);
    expect(weightedKappa([1, 1], [1, 1], { categories: [1] })).toBeNaN();
  });
});
