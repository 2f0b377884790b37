import { assertPaired } from './paired';

/**
 * Cohen's κ for two raters on nominal categories (any strings, numbers or booleans):
 * (p_o − p_e) / (1 − p_e), with p_e from each rater's own category shares (Cohen 1960).
 *
 * When both raters gave every item the same single category, p_e = 1 and the formula is 0/0.
 * We define κ = 1 there: the raters agree on every item and there is nothing else to agree
 * on. κ is NaN only with no items.
 */
export function cohensKappa<T extends string | number | boolean>(a: readonly T[], b: readonly T[]): number {
  assertPaired('cohensKappa', a, b);
  const n = a.length;
  if (n === 0) return Number.NaN;
  const countsA = new Map<T, number>();
  const countsB = new Map<T, number>();
  let agreements = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] as T;
    const y = b[i] as T;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      throw new Error(`cohensKappa: item ${i} is NaN in the ${Number.isNaN(x) ? 'first' : 'second'} list; leave unlabelled items out`);
    }
    if (x === y) agreements++;
    countsA.set(x, (countsA.get(x) ?? 0) + 1);
    countsB.set(y, (countsB.get(y) ?? 0) + 1);
  }
  let chanceAgreement = 0;
  for (const [category, countA] of countsA) chanceAgreement += (countA / n) * ((countsB.get(category) ?? 0) / n);
  const observed = agreements / n;
  if (chanceAgreement >= 1) return 1;
  return (observed - chanceAgreement) / (1 - chanceAgreement);
}

export interface WeightedKappaOptions {
  /** Every possible score, in order. Weights use positions in this list, not the values themselves. */
  categories: readonly number[];
  /** Disagreement weight for categories i and j of k: |i−j|/(k−1), or its square. Default quadratic. */
  weights?: 'linear' | 'quadratic';
}

/**
 * Weighted κ for ordinal scores (Cohen 1968): 1 − Σ w·observed / Σ w·expected, where a near miss
 * costs less than a far one. Quadratic weights are the default because that is the usual
 * "QWK" reported for graded scores. As with cohensKappa, two raters who both gave every item
 * the same category get κ = 1; no items gives NaN. A score outside `categories` throws.
 */
export function weightedKappa(a: readonly number[], b: readonly number[], opts: WeightedKappaOptions): number {
  assertPaired('weightedKappa', a, b);
  const { categories } = opts;
  const weighting = opts.weights ?? 'quadratic';
  const k = categories.length;
  const position = new Map<number, number>();
  categories.forEach((category, i) => {
    if (position.has(category)) throw new Error(`weightedKappa: category ${category} is listed twice in categories`);
    position.set(category, i);
  });
  const n = a.length;
  if (n === 0) return Number.NaN;

  const observed = new Float64Array(k * k);
  const rowTotals = new Float64Array(k);
  const columnTotals = new Float64Array(k);
  for (let item = 0; item < n; item++) {
    const i = positionOf(position, a[item] as number, 'first', item);
    const j = positionOf(position, b[item] as number, 'second', item);
    observed[i * k + j]! += 1;
    rowTotals[i]! += 1;
    columnTotals[j]! += 1;
  }
  if (k < 2) return 1; // one category: every item agrees, and there are no distances to weigh
  let observedDisagreement = 0;
  let expectedDisagreement = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const distance = Math.abs(i - j) / (k - 1);
      const weight = weighting === 'linear' ? distance : distance * distance;
      observedDisagreement += weight * observed[i * k + j]!;
      expectedDisagreement += (weight * rowTotals[i]! * columnTotals[j]!) / n;
    }
  }
  if (expectedDisagreement === 0) return 1;
  return 1 - observedDisagreement / expectedDisagreement;
}

function positionOf(position: Map<number, number>, value: number, list: string, item: number): number {
  const found = position.get(value);
  if (found === undefined) {
    throw new Error(`weightedKappa: the ${list} list has ${value} at item ${item}, which is not one of the categories`);
  }
  return found;
}
