import { describe, expect, it, vi } from 'vitest';
import { ChatCallError } from '../../src/call-policy/chat-call-error';
import { attemptsOf, callWithRetries, type RetryOptions } from '../../src/call-policy/call-with-retries';

const throttled = () => new ChatCallError('throttled', 'slow down', true, 5, '429');
const auth = () => new ChatCallError('auth', 'bad key', false, 5, '403');

function options(overrides: Partial<RetryOptions> = {}) {
  const sleeps: number[] = [];
  const opts: RetryOptions = {
    maxAttempts: 4,
    baseMs: 100,
    capMs: 1_000,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { opts, sleeps };
}

/** A call failing with each of `errors` in turn, then returning 'judged'. */
function failing(...errors: unknown[]) {
  return vi.fn(async (attempt: number) => {
    const error = errors[attempt - 1];
    if (error !== undefined) throw error;
    return 'judged';
  });
}

describe('callWithRetries', () => {
  it('returns the value and the attempts it took', async () => {
    const { opts, sleeps } = options();
    const fn = failing(throttled(), throttled());
    await expect(callWithRetries(fn, opts)).resolves.toEqual({ value: 'judged', attempts: 3 });
    expect(fn).toHaveBeenCalledTimes(3);
    // Full jitter at random() = 0.5: half of 100 * 2^0, then half of 100 * 2^1.
    expect(sleeps).toEqual([50, 100]);
  });

  it('does not sleep or retry when the first attempt succeeds', async () => {
    const { opts, sleeps } = options();
    await expect(callWithRetries(failing(), opts)).resolves.toEqual({ value: 'judged', attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it('stops at maxAttempts and throws the last error with the attempt count', async () => {
    const { opts, sleeps } = options({ maxAttempts: 3 });
    const last = throttled();
    const fn = failing(throttled(), throttled(), last, throttled());
    const error = await callWithRetries(fn, opts).catch((e: unknown) => e);
    expect(error).toBe(last);
    expect(attemptsOf(error)).toBe(3);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry a non-retryable ChatCallError', async () => {
    const { opts } = options();
    const denied = auth();
    const fn = failing(throttled(), denied);
    const error = await callWithRetries(fn, opts).catch((e: unknown) => e);
    expect(error).toBe(denied);
    expect(attemptsOf(error)).toBe(2);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('does not retry errors that are not ChatCallErrors, even if they say retryable', async () => {
    const { opts } = options();
    const bug = Object.assign(new TypeError('undefined is not a function'), { retryable: true });
    const fn = failing(bug);
    const error = await callWithRetries(fn, opts).catch((e: unknown) => e);
    expect(error).toBe(bug);
    expect(attemptsOf(error)).toBe(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('lets isRetryable override the error classification', async () => {
    const { opts } = options({ isRetryable: (e) => e.reason !== 'throttled' });
    const fn = failing(throttled());
    await expect(callWithRetries(fn, opts)).rejects.toMatchObject({ reason: 'throttled', attempts: 1 });

    const { opts: lenient } = options({ isRetryable: () => true });
    await expect(callWithRetries(failing(auth()), lenient)).resolves.toEqual({ value: 'judged', attempts: 2 });
  });

  it('reports each retry with its error, attempt and delay', async () => {
    const onRetry = vi.fn();
    const { opts } = options({ onRetry, random: () => 1 });
    const first = throttled();
    await callWithRetries(failing(first, throttled()), opts);
    expect(onRetry).toHaveBeenCalledTimes(2);
    expect(onRetry.mock.calls[0]![0]).toEqual({ error: first, attempt: 1, delayMs: 100 });
    expect(onRetry.mock.calls[1]![0]).toMatchObject({ attempt: 2, delayMs: 200 });
  });

  it('waits at least what the service asked for in Retry-After, capped', async () => {
    const asked = (ms: number) => new ChatCallError('throttled', 'slow down', true, 5, '429', ms);
    const { opts, sleeps } = options({ maxAttempts: 5, capMs: 1_000, retryAfterCapMs: 5_000 });
    await callWithRetries(failing(asked(2_000), throttled(), asked(60_000), asked(10)), opts);
    // 2 s asked beats the 50 ms of jitter; no ask: jitter; 60 s asked is capped; 10 ms asked: jitter wins.
    expect(sleeps).toEqual([2_000, 100, 5_000, 400]);
  });

  it('caps a Retry-After at the backoff cap when no Retry-After cap is given', async () => {
    const { opts, sleeps } = options({ capMs: 1_000 });
    await callWithRetries(failing(new ChatCallError('throttled', 'slow down', true, 5, '429', 30_000)), opts);
    expect(sleeps).toEqual([1_000]);
  });

  it('stops with the abort reason when aborted during the backoff sleep', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const { opts } = options({
      signal: controller.signal,
      sleep: () => {
        controller.abort(reason);
        return Promise.reject(new Error('sleep aborted'));
      },
    });
    const fn = failing(throttled());
    await expect(callWithRetries(fn, opts)).rejects.toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('aborts the real sleep without waiting it out', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const fn = failing(throttled());
    const run = callWithRetries(fn, {
      maxAttempts: 3,
      baseMs: 3_600_000,
      capMs: 3_600_000,
      random: () => 1,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort(reason));
    await expect(run).rejects.toBe(reason);
  });

  it('does not start when the signal is already aborted', async () => {
    const reason = new Error('gone');
    const fn = failing();
    await expect(callWithRetries(fn, { ...options().opts, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('wraps a thrown primitive so it can carry the attempts', async () => {
    const error = await callWithRetries(failing('plain string'), options().opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'plain string', cause: 'plain string', attempts: 1 });
  });
});
