/**
 * Many waiters on one long-lived signal (a chunk activity's cancellation signal, shared by up to
 * `maxInFlight` judge calls, each waiting in the limiter, on the model and in backoff) would each
 * add an 'abort' listener to it. Node warns past ten listeners on one EventTarget
 * (MaxListenersExceededWarning), and a listener forgotten in some path keeps its closure alive as
 * long as the signal. Here the signal gets one listener, whatever the number of waiters, and it
 * is removed when the last waiter leaves.
 */
interface Fanout {
  waiters: Set<() => void>;
  fire: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `callback` once when `signal` aborts (at once if it already has); returns the undo,
 * which the caller runs when it stops waiting.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => {};
  }
  let fanout = fanouts.get(signal);
  if (!fanout) {
    const waiters = new Set<() => void>();
    const fire = (): void => {
      fanouts.delete(signal);
      for (const waiter of [...waiters]) waiter();
      waiters.clear();
    };
    fanout = { waiters, fire };
    fanouts.set(signal, fanout);
    signal.addEventListener('abort', fire, { once: true });
  }
  const { waiters, fire } = fanout;
  // A callback registered twice must still be undone once each: wrap it.
  const waiter = (): void => callback();
  waiters.add(waiter);
  return () => {
    if (!waiters.delete(waiter) || waiters.size > 0) return;
    signal.removeEventListener('abort', fire);
    if (fanouts.get(signal) === fanout) fanouts.delete(signal);
  };
}

/** Resolves after `ms`; rejects with the signal's reason when it aborts first. One shared listener per signal. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    const stop = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
