import { sampleRankCorrelation } from 'simple-statistics';
import { assertFinite, assertPaired } from './paired';

/**
 * Spearman's ρ: Pearson correlation of the ranks, ties sharing their average rank.
 * simple-statistics' sampleRankCorrelation does exactly that in the ^7.12.1 we depend on (midranks
 * since simple-statistics#814; 7.9.3 ranked ties by input order, #813), and
 * test/stats checks it against scipy and against #813's cases.
 * NaN with fewer than two pairs or when either side is constant.
 */
export function spearmanRho(x: readonly number[], y: readonly number[]): number {
  assertPaired('spearmanRho', x, y);
  assertFinite('spearmanRho', x, 'first');
  assertFinite('spearmanRho', y, 'second');
  if (x.length < 2) return Number.NaN;
  return sampleRankCorrelation(x as number[], y as number[]);
}

/**
 * Kendall's τ-b, corrected for ties on either side: (C − D) / √((n₀ − n₁)(n₀ − n₂)).
 * Knight's (1966) O(n log n) method (sort by x then y, count inversions of y by merge sort), the
 * one scipy uses, because judge scores are heavily tied and n may be ~100k: the pairwise
 * definition would be 5·10⁹ comparisons. NaN with fewer than two pairs or a constant side.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  assertPaired('kendallTauB', x, y);
  assertFinite('kendallTauB', x, 'first');
  assertFinite('kendallTauB', y, 'second');
  const n = x.length;
  if (n < 2) return Number.NaN;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => x[i]! - x[j]! || y[i]! - y[j]!);

  const allPairs = (n * (n - 1)) / 2;
  const tiedX = tiedPairs(order, (i, j) => x[i] === x[j]);
  const tiedBoth = tiedPairs(order, (i, j) => x[i] === x[j] && y[i] === y[j]);
  const ys = Float64Array.from(order, (i) => y[i]!);
  const discordant = countInversions(ys);
  const tiedY = tiedPairs(Array.from({ length: n }, (_, i) => i), (i, j) => ys[i] === ys[j]); // ys is sorted now

  const denominator = Math.sqrt((allPairs - tiedX) * (allPairs - tiedY));
  if (denominator === 0) return Number.NaN;
  return (allPairs - tiedX - tiedY + tiedBoth - 2 * discordant) / denominator;
}

/** Σ t(t−1)/2 over runs of neighbours in `sorted` that `same` calls equal. */
function tiedPairs(sorted: readonly number[], same: (i: number, j: number) => boolean): number {
  let pairs = 0;
  let run = 1;
  for (let k = 1; k < sorted.length; k++) {
    if (same(sorted[k - 1]!, sorted[k]!)) run++;
    else {
      pairs += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return pairs + (run * (run - 1)) / 2;
}

/** Sorts `values` in place (bottom-up merge sort) and returns the number of pairs i < j with values[i] > values[j]. */
function countInversions(values: Float64Array): number {
  const n = values.length;
  let source: Float64Array = values;
  let target: Float64Array = new Float64Array(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let start = 0; start < n; start += 2 * width) {
      const middle = Math.min(start + width, n);
      const end = Math.min(start + 2 * width, n);
      let left = start;
      let right = middle;
      let out = start;
      while (left < middle && right < end) {
        if (source[right]! < source[left]!) {
          inversions += middle - left;
          target[out++] = source[right++]!;
        } else target[out++] = source[left++]!;
      }
      while (left < middle) target[out++] = source[left++]!;
      while (right < end) target[out++] = source[right++]!;
    }
    [source, target] = [target, source];
  }
  if (source !== values) values.set(source);
  return inversions;
}
