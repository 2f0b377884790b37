/** A model call's deadline: the caller's abort signal joined with a per-call timer. */
export interface CallDeadline {
  signal: AbortSignal;
  timedOut(): boolean;
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
  const onAbort = (): void => controller.abort(caller?.reason);
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}
