/**
 * How many worker processes judge from each shared judge queue (judge.sharedQuota), as Temporal
 * last reported its pollers (src/worker/watch-judge-queues.ts). A process paces its own calls
 * at its share of the account, so that chunks Temporal hands several processes at the same
 * moment (the queue's burst after a lull) do not reach the provider as one burst. Unknown
 * queues count one process: the whole quota, as a process alone would pace it.
 */
const counts = new Map<string, number>();
const listeners = new Set<(queue: string, processes: number) => void>();

export function processesOn(queue: string): number {
  return counts.get(queue) ?? 1;
}

export function setProcessesOn(queue: string, processes: number): void {
  const n = Math.max(1, Math.round(processes));
  if (counts.get(queue) === n) return;
  counts.set(queue, n);
  for (const listener of listeners) listener(queue, n);
}

/** Calls `listener` on every change; returns the unsubscribe. */
export function onProcessesChange(listener: (queue: string, processes: number) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
