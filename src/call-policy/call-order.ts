import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which of a process's judge calls should go first when they wait for the same quota: within one
 * group (a run), the lower rank (its earlier step). A run answers its steps in order, so a call
 * of a step judged ahead that goes before one of the step the run is finishing only delays every
 * answer: measured with `npm run bench:serve`, the first step (half the callers) came last and
 * the judge then idled ~0.5 s waiting for answers to bring new requests. Calls of different
 * groups keep their order of arrival.
 *
 * Carried by the async context of the chunk that makes the calls, so the judges and chat models
 * between the chunk and the limiter need not know about it.
 */
export interface CallOrder {
  group: string;
  rank: number;
}

const storage = new AsyncLocalStorage<CallOrder>();

/** Runs `body` with its judge calls ordered by `order`. */
export function inCallOrder<T>(order: CallOrder, body: () => T): T {
  return storage.run(order, body);
}

/** The order of the calls made here, if any was given. */
export function currentCallOrder(): CallOrder | undefined {
  return storage.getStore();
}
