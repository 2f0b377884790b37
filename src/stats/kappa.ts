import { assertPaired } from './paired';

/**
 * Cohen's κ for two raters on nominal categories (any strings, numbers or booleans):
 * (p_o − p_e) / (1 − p_e), with p_e from each rater's own category shares (Cohen 1960).
 *
 * Undefined (NaN) when chance agreement is total, p_e = 1: both raters gave every item the same
 * single category (a judge and its reviewers who all said "pass"), and the formula is 0/0. Such
 * items show no agreement beyond chance because none was possible: they never tested whether
 * the raters can tell one category from another. Calling it 1 would credit a judge that passes
 * everything with perfect agreement whenever the sample held no fail (one fail in the sample and
 * the same judge gets 0). scikit-learn's cohen_kappa_score returns NaN here too. Also NaN with
 * no items. See src/stats/README.md.
 */
export function cohensKappa<T extends string | number | boolean>(a: readonly T[], b: readonly T[]): number {
  assertPaired('cohensKappa', a, b);
  const n = a.length;
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
  let marginProducts = 0;
  for (const [category, countA] of countsA) marginProducts += countA * (countsB.get(category) ?? 0);
  return chanceCorrected(n, agreements, marginProducts);
}

/**
 * Cohen's κ from a square table of counts: table[i][j] is the number of items the first rater put
 * in category i and the second in category j (a confusion matrix; for pass/fail,
 * [[both pass, first pass second fail], [first fail second pass, both fail]]). The same κ, and the
 * same convention, as cohensKappa on the items the table counts: NaN with no items or when
 * chance agreement is total (all counts in one diagonal cell).
 */
export function cohensKappaFromTable(table: readonly (readonly number[])[]): number {
  const k = table.length;
  const rowTotals = new Array<number>(k).fill(0);
  const columnTotals = new Array<number>(k).fill(0);
  let n = 0;
  let agreements = 0;
  for (let i = 0; i < k; i++) {
    const row = table[i]!;
    if (row.length !== k) throw new Error(`cohensKappaFromTable: the table has ${k} rows but row ${i} has ${row.length} counts; it must be square`);
    for (let j = 0; j < k; j++) {
      const count = row[j]!;
      if (!Number.isInteger(count) || count < 0) throw new Error(`cohensKappaFromTable: count [${i}][${j}] is ${count}; counts must be whole numbers ≥ 0`);
      rowTotals[i]! += count;
      columnTotals[j]! += count;
      n += count;
      if (i === j) agreements += count;
    }
  }
  let marginProducts = 0;
  for (let i = 0; i < k; i++) marginProducts += rowTotals[i]! * columnTotals[i]!;
  return chanceCorrected(n, agreements, marginProducts);
}

/**
 * κ = (p_o − p_e) / (1 − p_e) with p_o = agreements / n and p_e = Σ_c rowTotal_c · columnTotal_c / n²,
 * multiplied through by n² so the test for p_e = 1 is exact whole-number arithmetic.
 */
function chanceCorrected(n: number, agreements: number, marginProducts: number): number {
  const nSquared = n * n;
  if (n === 0 || marginProducts === nSquared) return Number.NaN;
  return (n * agreements - marginProducts) / (nSquared - marginProducts);
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
 * "QWK" reported for graded scores. As with cohensKappa, κ is NaN when the expected disagreement
 * is 0 (both raters gave every item the same category, or there is only one category) and with
 * no items. A score outside `categories` throws.
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
  if (k < 2) return Number.NaN; // one category: nothing to tell apart, so nothing beyond chance to measure
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
  if (expectedDisagreement === 0) return Number.NaN;
  return 1 - observedDisagreement / expectedDisagreement;
}

function positionOf(position: Map<number, number>, value: number, list: string, item: number): number {
  const found = position.get(value);
  if (found === undefined) {
    throw new Error(`weightedKappa: the ${list} list has ${value} at item ${item}, which is not one of the categories`);
  }
  return found;
}

/**
 * How progress lines and the report show an undefined κ (NaN here, null in the run's progress and
 * step summaries) where there were items: every one got the same verdict from both raters.
 */
export const KAPPA_UNDEFINED = 'n/a (every verdict the same)';
