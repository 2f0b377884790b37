/**
 * How long a service asked us to wait, from its `retry-after-ms` (OpenAI, Azure) or
 * `retry-after` (seconds or an HTTP date, RFC 9110) header; undefined when it said nothing usable.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now: number = Date.now()): number | undefined {
  const ms = Number(header('retry-after-ms')?.trim() || Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = header('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
