export interface BackoffOptions {
  /** Delay scale of the first retry, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  capMs: number;
}

/**
 * "Full jitter": delay = random(0, min(cap, base * 2^attempt)), attempt counted from 0.
 * Spreading retries over the whole window is what de-synchronises many callers that were
 * throttled at the same moment (AWS Architecture Blog, "Exponential Backoff And Jitter").
 * p-retry's `randomize` multiplies the delay by a factor in [1, 2], so every caller still
 * waits at least the same base delay and they retry in a herd: that is why this is ours.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { baseMs, capMs } = options;
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be an integer >= 0, got ${attempt}`);
  if (!(baseMs >= 0) || !(capMs >= 0)) throw new RangeError(`baseMs and capMs must be >= 0, got ${baseMs}, ${capMs}`);
  // 2 ** attempt overflows to Infinity for huge attempts, and min() takes care of it.
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  // random() is in [0, 1); clamping keeps a misbehaving injected source inside the bounds.
  return Math.min(ceiling, Math.max(0, random() * ceiling));
}
