/**
 * Every paired statistic here compares item i of one list with item i of the other, so lists of
 * different lengths are a caller bug (a dropped or duplicated row), never something to truncate.
 */
export function assertPaired(statistic: string, a: readonly unknown[], b: readonly unknown[], names = ['first', 'second']): void {
  if (a.length !== b.length) {
    throw new Error(
      `${statistic}: the ${names[0]} list has ${a.length} values but the ${names[1]} list has ${b.length}; they must be paired item by item`,
    );
  }
}

/**
 * A NaN or infinite score is an unscored item (a judge fallback, a missing label) that slipped
 * through; sorting and summing would silently turn it into a wrong statistic, so it is an error.
 */
export function assertFinite(statistic: string, values: readonly number[], name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${statistic}: the ${name} list has ${values[i]} at item ${i}; leave unscored items out before computing it`);
    }
  }
}
