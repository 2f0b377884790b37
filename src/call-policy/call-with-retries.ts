import { ChatCallError } from './chat-call-error';
import { fullJitterDelay } from './backoff';
import { sleepUnlessAborted } from '../util/abort-fanout';

export interface RetryOptions {
  /** Total attempts, the first included. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /**
   * Longest wait a service's Retry-After can impose on one retry (default `capMs`): a retry
   * never comes sooner than the service asked, up to this.
   */
  retryAfterCapMs?: number;
  /** Which classified failures are worth another try; default the error's own `retryable`. */
  isRetryable?: (error: ChatCallError) => boolean;
  onRetry?: (info: { error: ChatCallError; attempt: number; delayMs: number }) => void;
  signal?: AbortSignal;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface RetryResult<T> {
  value: T;
  /** Attempts made, the successful one included. */
  attempts: number;
}

/** What `callWithRetries` throws: the last error, carrying how many attempts it took. */
export type WithAttempts<E = Error> = E & { attempts: number };

/**
 * Calls `fn` until it succeeds, fails with something other than a retryable
 * `ChatCallError`, or runs out of attempts, sleeping with full-jitter backoff in between.
 * Only classified model errors are retried: anything else is a bug or a cancellation, and
 * trying again would only hide it. Aborting `signal` stops at once with the abort reason.
 */
export async function callWithRetries<T>(
  fn: (attempt: number, signal?: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const { maxAttempts, baseMs, capMs, signal } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  const isRetryable = options.isRetryable ?? ((error: ChatCallError) => error.retryable);
  // Not timers/promises: its signal option adds a listener per sleeper to the caller's shared signal.
  const sleep = options.sleep ?? sleepUnlessAborted;

  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return { value: await fn(attempt, signal), attempts: attempt };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const retry = error instanceof ChatCallError && attempt < maxAttempts && isRetryable(error);
      if (!retry) throw withAttempts(error, attempt);
      const jitter = fullJitterDelay(attempt - 1, { baseMs, capMs }, options.random);
      const delayMs = Math.max(jitter, Math.min(error.retryAfterMs ?? 0, options.retryAfterCapMs ?? capMs));
      options.onRetry?.({ error, attempt, delayMs });
      try {
        await sleep(delayMs, signal);
      } catch (sleepError) {
        // A custom sleep may reject with its own AbortError; callers expect their reason.
        throw signal?.aborted ? signal.reason : sleepError;
      }
    }
  }
}

/** Attempts recorded on an error thrown by `callWithRetries`, if any. */
export function attemptsOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('attempts' in error)) return undefined;
  return typeof error.attempts === 'number' ? error.attempts : undefined;
}

function withAttempts(error: unknown, attempts: number): WithAttempts {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    return Object.assign(error as Error, { attempts });
  }
  // Thrown primitives (or frozen objects) cannot carry a property; wrap them rather than lose the count.
  return Object.assign(new Error(String(error), { cause: error }), { attempts });
}
