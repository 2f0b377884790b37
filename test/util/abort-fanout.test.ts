import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort, sleepUnlessAborted } from '../../src/util/abort-fanout';

describe('onAbort', () => {
  it('hangs one listener on the signal for any number of waiters and removes it with the last', () => {
    const controller = new AbortController();
    const undos = Array.from({ length: 50 }, () => onAbort(controller.signal, () => {}));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const undo of undos.slice(1)) undo();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    undos[0]!();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Waiting again after all left works again.
    let fired = 0;
    onAbort(controller.signal, () => fired++);
    controller.abort();
    expect(fired).toBe(1);
  });

  it('calls every waiter still waiting, once, and none that left', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const same = () => calls.push('same');
    onAbort(controller.signal, same);
    const undoSecond = onAbort(controller.signal, same);
    onAbort(controller.signal, () => calls.push('other'));
    undoSecond();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['same', 'other']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // An aborted signal answers at once.
    onAbort(controller.signal, () => calls.push('late'));
    expect(calls.at(-1)).toBe('late');
  });

  it('sleepUnlessAborted rejects with the reason and leaves no listener', async () => {
    const controller = new AbortController();
    await sleepUnlessAborted(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const sleeping = sleepUnlessAborted(60_000, controller.signal);
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
  });
});
