/**
 * JSON in which every number is written as a float (`1.0`, never `1`). Python's `json` reads `1`
 * as an int, and a trainer that builds a tensor from a list of ints gets an int64 tensor, whose
 * `mean()` and `std()` raise (OpenRLHF: `torch.tensor([reward])` with no dtype). Otherwise the
 * same as `JSON.stringify`: undefined and functions left out of objects and null in arrays,
 * `toJSON` honoured, NaN and infinities as null.
 */
export function floatJson(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(1) : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return floatJson(json.call(value));
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : floatJson(v))).join(',')}]`;
  const fields = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${floatJson(v)}`).join(',')}}`;
}
