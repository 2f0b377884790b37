/**
 * JSON with object keys sorted and `undefined` members dropped, at every depth: what a hash of
 * a config or a key is taken over, so key order and absent optionals do not change it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`not canonical JSON: ${value}`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`not canonical JSON: ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.entries(value)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
  return `{${members.join(',')}}`;
}
