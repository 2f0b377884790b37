import { seededRandom } from '../../src/util/seeded-random';

/** Expands a k×k contingency table (rows: first rater, columns: second) into paired ratings 0..k−1. */
export function expandTable(table: number[][]): { a: number[]; b: number[] } {
  const a: number[] = [];
  const b: number[] = [];
  table.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let c = 0; c < count; c++) {
        a.push(i);
        b.push(j);
      }
    }),
  );
  return { a, b };
}

/** n independent draws from 0..categories−1, uniform, from a seeded PRNG. */
export function randomCategories(n: number, categories: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Math.floor(random() * categories));
}

// 60 ordinal 1–5 ratings: gold, a judge that is usually within one point of it, and a noisy
// production metric that follows gold. Drawn once with Python's random.Random(11); the reference
// values in the tests come from scikit-learn 1.9.1 and scipy 1.17.1 on exactly these lists.
export const gold = [4, 5, 4, 4, 5, 5, 2, 2, 5, 4, 5, 2, 1, 4, 3, 2, 1, 5, 1, 5, 4, 4, 5, 2, 5, 1, 5, 1, 1, 1, 2, 2, 5, 1, 4, 3, 4, 5, 2, 5, 2, 3, 4, 1, 1, 4, 3, 4, 5, 1, 3, 3, 2, 5, 3, 1, 1, 5, 1, 4];
export const judge = [2, 5, 4, 4, 3, 3, 3, 3, 3, 3, 4, 1, 1, 4, 4, 2, 1, 3, 1, 5, 3, 5, 5, 2, 5, 1, 5, 1, 1, 1, 3, 1, 4, 1, 5, 1, 2, 3, 2, 5, 2, 2, 5, 1, 1, 4, 3, 3, 5, 2, 2, 3, 3, 5, 1, 1, 1, 4, 1, 4];
export const metric = [1.23, 1.49, 1.1, 1.3, 1.01, 1.09, 0.9, 0.7, 1.29, 0.82, 1.07, 0.62, 0.2, 1.11, 1.02, 0.59, 0.24, 1.1, 0.52, 1.01, 0.98, 1.11, 1.06, 0.69, 1.42, 0.27, 1.19, 0.51, 0.36, 0.31, 0.71, 0.76, 1.08, 0.51, 1.08, 0.94, 0.99, 1.24, 0.44, 1.02, 0.45, 0.86, 0.93, 0.57, 0.4, 1.01, 1.05, 1.05, 1.26, 0.66, 1.09, 0.66, 0.64, 1.33, 0.91, 0.24, 0.31, 1.46, 0.57, 0.83];
