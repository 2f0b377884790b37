export type KrippendorffLevel = 'nominal' | 'ordinal' | 'interval';
export type ReliabilityValue = number | string | null;

/**
 * Krippendorff's α for any number of coders with missing values (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability"): α = 1 − D_o / D_e over the pairable values, i.e. values in
 * units that at least two coders coded. reliability[coder][unit]; null means not coded.
 *
 * Computed without the value-by-value coincidence matrix so it stays linear in the data (that
 * matrix is quadratic in the number of distinct values, which interval scores can make huge):
 * - nominal: D_o and D_e come from per-unit and overall category counts;
 * - interval: δ² = (c − k)², whose pair sums reduce to sums of squared deviations;
 * - ordinal: Krippendorff's δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k)/2)² equals (m_k − m_c)² where
 *   m_v = (number of pairable values below v) + n_v/2, so ordinal α is interval α on m.
 *
 * If every pairable value is the same, D_e = 0 and the formula is 0/0; like cohensKappa we
 * return 1 (every coder agrees on every unit). With no pairable unit, α is NaN.
 * Ordinal and interval data must be finite numbers; nominal data may be numbers or strings.
 */
export function krippendorffAlpha(reliability: readonly (readonly ReliabilityValue[])[], level: KrippendorffLevel): number {
  const units = reliability[0]?.length ?? 0;
  reliability.forEach((row, coder) => {
    if (row.length !== units) {
      throw new Error(`krippendorffAlpha: coder 0 has ${units} units but coder ${coder} has ${row.length}; every coder needs one entry per unit (null when not coded)`);
    }
  });

  const pairableUnits: ReliabilityValue[][] = [];
  for (let unit = 0; unit < units; unit++) {
    const values: ReliabilityValue[] = [];
    for (let coder = 0; coder < reliability.length; coder++) {
      const value = reliability[coder]![unit];
      if (value === null || value === undefined) continue;
      if (level !== 'nominal' && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new Error(`krippendorffAlpha: coder ${coder}, unit ${unit} has ${JSON.stringify(value)}; ${level} data must be finite numbers`);
      }
      if (typeof value === 'number' && Number.isNaN(value)) {
        throw new Error(`krippendorffAlpha: coder ${coder}, unit ${unit} is NaN; use null for a missing value`);
      }
      values.push(value);
    }
    if (values.length >= 2) pairableUnits.push(values);
  }
  if (pairableUnits.length === 0) return Number.NaN;

  if (level === 'nominal') return nominalAlpha(pairableUnits);
  const numeric = pairableUnits as number[][];
  return intervalAlpha(level === 'ordinal' ? toOrdinalPositions(numeric) : numeric);
}

function nominalAlpha(units: ReliabilityValue[][]): number {
  const totals = new Map<ReliabilityValue, number>();
  let n = 0;
  let sameValuePairs = 0; // Σ_c o_cc
  for (const values of units) {
    const counts = new Map<ReliabilityValue, number>();
    for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    for (const [value, count] of counts) {
      totals.set(value, (totals.get(value) ?? 0) + count);
      sameValuePairs += (count * (count - 1)) / (values.length - 1);
    }
    n += values.length;
  }
  let sumSquaredTotals = 0;
  for (const count of totals.values()) sumSquaredTotals += count * count;
  const expected = n * n - sumSquaredTotals; // Σ_{c≠k} n_c n_k
  if (expected === 0) return 1;
  const observed = n - sameValuePairs; // Σ_{c≠k} o_ck
  return 1 - ((n - 1) * observed) / expected;
}

function intervalAlpha(units: number[][]): number {
  let n = 0;
  let total = 0;
  let observed = 0; // Σ_u Σ_{i≠j} (v_i − v_j)² / (m_u − 1)
  for (const values of units) {
    const m = values.length;
    let sum = 0;
    for (const v of values) sum += v;
    const mean = sum / m;
    let squares = 0;
    for (const v of values) squares += (v - mean) * (v - mean);
    observed += (2 * m * squares) / (m - 1);
    n += m;
    total += sum;
  }
  const grandMean = total / n;
  let totalSquares = 0;
  for (const values of units) for (const v of values) totalSquares += (v - grandMean) * (v - grandMean);
  const expected = 2 * n * totalSquares; // Σ over all ordered pairs of pairable values
  if (expected === 0) return 1;
  return 1 - ((n - 1) * observed) / expected;
}

function toOrdinalPositions(units: number[][]): number[][] {
  const frequency = new Map<number, number>();
  for (const values of units) for (const v of values) frequency.set(v, (frequency.get(v) ?? 0) + 1);
  const position = new Map<number, number>();
  let below = 0;
  for (const value of [...frequency.keys()].sort((x, y) => x - y)) {
    const count = frequency.get(value)!;
    position.set(value, below + count / 2);
    below += count;
  }
  return units.map((values) => values.map((v) => position.get(v)!));
}
