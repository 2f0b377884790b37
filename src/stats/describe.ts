import { sampleStandardDeviation } from 'simple-statistics';
import { assertFinite, assertPaired } from './paired';

/**
 * Mean of judge − gold. Correlation is blind to a judge that is consistently harsh or lenient;
 * this is the number that shows it (negative: harsher than gold). NaN with no items.
 */
export function meanOffset(judge: readonly number[], gold: readonly number[]): number {
  assertPaired('meanOffset', judge, gold, ['judge', 'gold']);
  assertFinite('meanOffset', judge, 'judge');
  assertFinite('meanOffset', gold, 'gold');
  if (judge.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < judge.length; i++) sum += judge[i]! - gold[i]!;
  return sum / judge.length;
}

/** Sample standard deviation (n − 1 denominator). NaN with fewer than two values, where simple-statistics would throw. */
export function stdDev(values: readonly number[]): number {
  assertFinite('stdDev', values, 'values');
  if (values.length < 2) return Number.NaN;
  return sampleStandardDeviation(values as number[]);
}
