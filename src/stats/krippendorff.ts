export type KrippendorffLevel = 'nominal' | 'ordinal' | 'interval';
export type ReliabilityValue = number | string | null;

/**
 * Krippendorff's α for any number of coders with missing values (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability"): α = 1 − D_o / D_e over the pairable values, i.e. values in
 * units that at least two coders coded. reliability[coder][unit]; null means not coded.
 *
 * Computed without the value-by-value coincidence matrix so it stays near-linear in the data
 * (that matrix is quadratic in the number of distinct values, which interval scores can make huge):
 * - nominal: D_o from equal pairs within units, D_e from overall value counts;
 * - interval: δ² = (c − k)², whose pair sums reduce to sums of squared deviations;
 * - ordinal: Krippendorff's δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k)/2)² equals (m_k − m_c)² where
 *   m_v = (number of pairable values below v) + n_v/2, so ordinal α is interval α on m.
 *
 * If every pairable value is the same, D_e = 0 and the formula is 0/0; as with cohensKappa, α is
 * then undefined (NaN): the data held nothing to disagree about, so they cannot show agreement
 * beyond chance (see src/stats/README.md). With no pairable unit, α is NaN too.
 * Ordinal and interval data must be finite numbers; nominal data may be numbers or strings.
 */
export function krippendorffAlpha(reliability: readonly (readonly ReliabilityValue[])[], level: KrippendorffLevel): number {
  const pairable = pairableValues(reliability, level);
  if (pairable.unitStarts.length === 0) return Number.NaN;
  if (level === 'nominal') return nominalAlpha(pairable);
  const numeric = pairable as Pairable<number>;
  return intervalAlpha(level === 'ordinal' ? { ...numeric, values: ordinalPositions(numeric.values) } : numeric);
}

/** Values of units with at least two values, flattened: unit u is values[unitStarts[u] .. unitStarts[u+1]). */
interface Pairable<T> {
  values: T[];
  unitStarts: number[];
}

function pairableValues(reliability: readonly (readonly ReliabilityValue[])[], level: KrippendorffLevel): Pairable<number | string> {
  const units = reliability[0]?.length ?? 0;
  reliability.forEach((row, coder) => {
    if (row.length !== units) {
      throw new Error(`krippendorffAlpha: coder 0 has ${units} units but coder ${coder} has ${row.length}; every coder needs one entry per unit (null when not coded)`);
    }
  });
  const values: (number | string)[] = [];
  const unitStarts: number[] = [];
  for (let unit = 0; unit < units; unit++) {
    const start = values.length;
    for (let coder = 0; coder < reliability.length; coder++) {
      const value = reliability[coder]![unit];
      if (value === null || value === undefined) continue;
      if (typeof value === 'number' && Number.isNaN(value)) {
        throw new Error(`krippendorffAlpha: coder ${coder}, unit ${unit} is NaN; use null for a missing value`);
      }
      if (level !== 'nominal' && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new Error(`krippendorffAlpha: coder ${coder}, unit ${unit} has ${JSON.stringify(value)}; ${level} data must be finite numbers`);
      }
      values.push(value);
    }
    if (values.length - start >= 2) unitStarts.push(start);
    else values.length = start;
  }
  return { values, unitStarts };
}

function nominalAlpha({ values, unitStarts }: Pairable<number | string>): number {
  const n = values.length;
  let sameValuePairs = 0; // Σ_c o_cc = Σ_u (ordered equal pairs in u) / (m_u − 1)
  for (let u = 0; u < unitStarts.length; u++) {
    const start = unitStarts[u]!;
    const end = unitStarts[u + 1] ?? n;
    let equalPairs = 0;
    for (let i = start; i < end; i++) for (let j = i + 1; j < end; j++) if (values[i] === values[j]) equalPairs++;
    sameValuePairs += (2 * equalPairs) / (end - start - 1);
  }
  const expected = n * n - sumSquaredCounts(values); // Σ_{c≠k} n_c n_k
  if (expected === 0) return Number.NaN;
  const observed = n - sameValuePairs; // Σ_{c≠k} o_ck
  return 1 - ((n - 1) * observed) / expected;
}

/** Σ_c n_c² over the distinct values. Numbers are counted by sorting, which is much faster than a Map of float keys. */
function sumSquaredCounts(values: readonly (number | string)[]): number {
  const numbers = new Float64Array(values.filter((v): v is number => typeof v === 'number')).sort();
  let sum = 0;
  forEachRun(numbers, (_, count) => {
    sum += count * count;
  });
  const others = new Map<string, number>();
  for (const v of values) if (typeof v === 'string') others.set(v, (others.get(v) ?? 0) + 1);
  for (const count of others.values()) sum += count * count;
  return sum;
}

function intervalAlpha({ values, unitStarts }: Pairable<number>): number {
  const n = values.length;
  let total = 0;
  let observed = 0; // Σ_u Σ_{i≠j} (v_i − v_j)² / (m_u − 1) = Σ_u 2·m_u·SS_u / (m_u − 1)
  for (let u = 0; u < unitStarts.length; u++) {
    const start = unitStarts[u]!;
    const end = unitStarts[u + 1] ?? n;
    const m = end - start;
    let sum = 0;
    for (let i = start; i < end; i++) sum += values[i]!;
    const mean = sum / m;
    let squares = 0;
    for (let i = start; i < end; i++) squares += (values[i]! - mean) ** 2;
    observed += (2 * m * squares) / (m - 1);
    total += sum;
  }
  const grandMean = total / n;
  let totalSquares = 0;
  for (const v of values) totalSquares += (v - grandMean) ** 2;
  const expected = 2 * n * totalSquares; // Σ over all ordered pairs of pairable values of (v_i − v_j)²
  if (expected === 0) return Number.NaN;
  return 1 - ((n - 1) * observed) / expected;
}

/** Replaces each value v by m_v = (pairable values below v) + n_v / 2. */
function ordinalPositions(values: readonly number[]): number[] {
  const sorted = new Float64Array(values).sort();
  const distinct: number[] = [];
  const position: number[] = [];
  let below = 0;
  forEachRun(sorted, (value, count) => {
    distinct.push(value);
    position.push(below + count / 2);
    below += count;
  });
  return values.map((v) => position[lowerBound(distinct, v)]!);
}

function forEachRun(sorted: Float64Array, visit: (value: number, count: number) => void): void {
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    visit(sorted[i]!, j - i);
    i = j;
  }
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
