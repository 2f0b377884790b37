import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { UpdateRounds } from '../../src/serve/update-rounds';

interface Item {
  key: string;
  bytes: number;
}

/** A run whose Updates are answered when the test says so: what each Update carried, in order. */
function harness(options: { windowMs?: number; maxInFlight?: number; maxBytes?: number; maxCount?: number } = {}) {
  const sent: string[][] = [];
  const answers: (() => void)[] = [];
  const rounds = new UpdateRounds<Item>(
    { windowMs: options.windowMs ?? 5, maxInFlight: options.maxInFlight ?? 4, maxBytes: options.maxBytes ?? 1000, maxCount: options.maxCount ?? 1000 },
    (batch) => {
      sent.push(batch.map((i) => i.key));
      return new Promise<void>((resolve) => answers.push(resolve));
    },
  );
  const add = (...keys: string[]) => keys.forEach((key) => rounds.add({ key, bytes: 10 }));
  /** Answers the oldest Update still in flight. */
  const answer = async () => {
    answers.shift()!();
    await sleep(0);
  };
  return { rounds, sent, add, answer };
}

// Issue 19: the run takes Updates one workflow task at a time; an Update sent while another was in
// flight split the callers one task could take into two, so each task held half of them.
describe('Updates to a run, a round at a time', () => {
  it('gathers the requests that arrive while a round is in flight into one Update, sent after it is answered', async () => {
    const { sent, add, answer, rounds } = harness({ windowMs: 5 });
    add('a', 'b');
    await sleep(20);
    expect(sent).toEqual([['a', 'b']]);
    add('c');
    await sleep(20);
    add('d', 'e');
    await sleep(20);
    // Room for three more in flight, yet nothing goes while the first round is out.
    expect(sent).toEqual([['a', 'b']]);
    expect(rounds.sending).toBe(1);
    await answer();
    // The callers just answered may send again within the window: they join the round.
    add('a2');
    await sleep(20);
    expect(sent).toEqual([['a', 'b'], ['c', 'd', 'e', 'a2']]);
  });

  it('sends a full Update at once, beside the round in flight, and keeps a key to one Update', async () => {
    const { sent, add } = harness({ maxBytes: 30, maxInFlight: 2 });
    add('a');
    await sleep(20);
    add('b', 'b', 'c');
    // Thirty bytes wait, but a key goes once per Update: `b`, `c` do not fill one.
    expect(sent).toEqual([['a']]);
    add('d');
    // Three requests of 10 bytes fill an Update: it goes without waiting, the second `b` stays.
    expect(sent).toEqual([['a'], ['b', 'c', 'd']]);
    add('d', 'e', 'f', 'g');
    await sleep(20);
    // Two in flight: nothing more goes, full or not.
    expect(sent).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('sends everything waiting, as several Updates, once nothing is in flight', async () => {
    const { sent, add, answer } = harness({ maxCount: 2, maxInFlight: 4 });
    add('a');
    await sleep(20);
    add('b');
    await sleep(1);
    add('c');
    // `b`, `c` fill an Update of two: it goes beside `a`.
    expect(sent).toEqual([['a'], ['b', 'c']]);
    add('d', 'e', 'f');
    expect(sent).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
    await answer();
    await answer();
    await sleep(20);
    // `f` alone waited for every Update in flight to be answered.
    expect(sent).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
    await answer();
    await sleep(20);
    expect(sent).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
  });

  it('sends a request that must go alone at once, and no round waits for it', async () => {
    const { sent, add, rounds, answer } = harness();
    add('a');
    await sleep(20);
    rounds.alone([{ key: 'pinned', bytes: 10 }]);
    expect(sent).toEqual([['a'], ['pinned']]);
    await answer();
    // `pinned` is still in flight: the next round goes all the same.
    add('b');
    await sleep(20);
    expect(sent).toEqual([['a'], ['pinned'], ['b']]);
    expect(rounds.sending).toBe(1);
  });

  it('keeps the window from the first request when later ones fill no Update', async () => {
    vi.useFakeTimers();
    try {
      const { sent, add } = harness({ windowMs: 10, maxCount: 2 });
      // Two requests under one key: the queue holds an Update's count, yet no full Update.
      add('a', 'a');
      vi.advanceTimersByTime(6);
      add('a');
      vi.advanceTimersByTime(5);
      // The window closed 10 ms after the first request, however many came since.
      expect(sent).toEqual([['a']]);
    } finally {
      vi.useRealTimers();
    }
  });
});
