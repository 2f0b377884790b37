import { onAbort } from '../util/abort-fanout';

/** A model call's deadline: the caller's abort signal joined with a per-call timer. */
export interface CallDeadline {
  signal: AbortSignal;
  /**
   * For a failed call: rethrows the caller's reason when the caller cancelled (e.g. the activity
   * was cancelled), which is not a model failure. Otherwise says whether the call was cut short,
   * by its own timer or a caller's timeout, which counts as the model not answering in time.
   */
  cutShort(error: unknown): boolean;
  clear(): void;
}

/**
 * The caller's signal plus a per-call timer. Linked by hand rather than with
 * AbortSignal.any, which on Node 20 keeps every combined signal alive as long as the
 * caller's long-lived signal (measured: one retained signal per call).
 */
export function callDeadline(timeoutMs: number, caller: AbortSignal | undefined): CallDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  // Through the fan-out: the caller's signal is shared by every call of a chunk, and a listener
  // each would pass Node's limit of ten (MaxListenersExceededWarning) at maxInFlight > 10.
  const unlink = caller ? onAbort(caller, () => controller.abort(caller.reason)) : () => {};
  return {
    signal: controller.signal,
    cutShort: (error) => {
      if (caller?.aborted && !timedOut && !isTimeoutReason(caller.reason)) throw caller.reason ?? error;
      return timedOut || caller?.aborted === true;
    },
    clear: () => {
      clearTimeout(timer);
      unlink();
    },
  };
}

function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}
