import { describe, expect, it } from 'vitest';
import { QuotaLimiter, type QuotaLimiterOptions, type QuotaPermit } from '../../src/call-policy/quota-limiter';
import { FakeClock, settle } from './fake-clock';
import { inCallOrder } from '../../src/call-policy/call-order';

/** Most tests reason about a burst of 10 requests (one second at 600/min): it is set explicitly. */
function limiter(clock: FakeClock, options: Partial<QuotaLimiterOptions> = {}): QuotaLimiter {
  return new QuotaLimiter({
    requestsPerMinute: 600,
    maxInFlight: 1000,
    burst: { requests: 10 },
    clock: clock.now,
    sleep: clock.sleep,
    ...options,
  });
}

/** Starts acquires and records, in order, which were granted. */
function acquireAll(l: QuotaLimiter, tokens: number[], signal?: AbortSignal) {
  const granted: number[] = [];
  const permits: QuotaPermit[] = [];
  const promises = tokens.map((t, i) =>
    l.acquire(t, signal).then((p) => {
      granted.push(i);
      permits[i] = p;
      return p;
    }),
  );
  return { granted, permits, promises };
}

describe('QuotaLimiter token buckets', () => {
  it('admits up to the burst at once, then paces at the rate, with one timer and no polling', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 60, burst: { requests: 5 } });
    const { granted } = acquireAll(l, Array(8).fill(0));
    await settle();
    expect(granted).toHaveLength(5);
    expect(clock.pending).toBe(1);

    await clock.advance(999);
    expect(granted).toHaveLength(5);
    await clock.advance(1);
    expect(granted).toHaveLength(6);
    await clock.advance(1000);
    expect(granted).toHaveLength(7);
    await clock.advance(1000);
    expect(granted).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(clock.pending).toBe(0);
  });

  it('defaults the request burst to a tenth of a second of the configured rate', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 6000, burst: undefined });
    const { granted } = acquireAll(l, Array(12).fill(0));
    await settle();
    expect(granted).toHaveLength(10);
    await clock.advance(10);
    expect(granted).toHaveLength(11);
  });

  it('charges the estimate up front and settles to the actual tokens on release', async () => {
    const clock = new FakeClock();
    // 1000 tokens per second, burst 1000.
    const l = limiter(clock, { tokensPerMinute: 60_000, burst: { requests: 10, tokens: 1000 } });
    const first = await l.acquire(1000);
    expect(l.snapshot().availableTokens).toBeCloseTo(0);

    first.release({ outcome: 'ok', actualTokens: 200 });
    expect(l.snapshot().availableTokens).toBeCloseTo(800);
    const { granted } = acquireAll(l, [800]);
    await settle();
    expect(granted).toEqual([0]);
  });

  it('puts under-estimated calls into token debt, which delays the next call', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { tokensPerMinute: 60_000, burst: { requests: 10, tokens: 1000 } });
    const permit = await l.acquire(100);
    permit.release({ outcome: 'ok', actualTokens: 1100 });
    expect(l.snapshot().availableTokens).toBeCloseTo(900 - 1000);

    const { granted } = acquireAll(l, [1000]);
    await clock.advance(1099);
    expect(granted).toEqual([]);
    await clock.advance(1);
    expect(granted).toEqual([0]);
  });

  it('admits a call estimated above the token burst once the bucket is full, never starving it', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { tokensPerMinute: 60_000, burst: { requests: 10, tokens: 1000 } });
    (await l.acquire(500)).release({ outcome: 'ok' });
    const { granted } = acquireAll(l, [3000, 10]);
    await clock.advance(499);
    expect(granted).toEqual([]);
    await clock.advance(1);
    expect(granted).toEqual([0]);
    expect(l.snapshot().availableTokens).toBeCloseTo(-2000);
    // The small one behind it pays for the big one's debt.
    await clock.advance(2009);
    expect(granted).toEqual([0]);
    await clock.advance(1);
    expect(granted).toEqual([0, 1]);
  });
});

describe('QuotaLimiter AIMD', () => {
  it('cuts the effective rate (and the token rate with it) once for a burst of throttles', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 600, tokensPerMinute: 60_000 });
    const permits = await Promise.all([l.acquire(), l.acquire(), l.acquire()]);
    await clock.advance(300);
    for (const p of permits) p.release({ outcome: 'throttled' });

    const s = l.snapshot();
    expect(s.effectiveRequestsPerMinute).toBeCloseTo(420);
    expect(s.effectiveTokensPerMinute).toBeCloseTo(42_000);
    expect(s.throttles).toBe(3);
    expect(s.decreases).toBe(1);
  });

  it('does not decrease again within the cooldown, and does after it', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { decrease: { cooldownMs: 2000 } });
    (await l.acquire()).release({ outcome: 'throttled' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(420);

    // Sent after the decrease, throttled inside the cooldown: ignored.
    const early = await l.acquire();
    await clock.advance(1000);
    early.release({ outcome: 'throttled' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(420);

    const late = await l.acquire();
    await clock.advance(1000);
    late.release({ outcome: 'throttled' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(294);
    expect(l.snapshot()).toMatchObject({ throttles: 3, decreases: 2 });
  });

  it('ignores throttles of calls sent before the last decrease, even after the cooldown', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { decrease: { cooldownMs: 2000 } });
    const [a, b] = await Promise.all([l.acquire(), l.acquire()]);
    a!.release({ outcome: 'throttled' });
    await clock.advance(10_000);
    b!.release({ outcome: 'throttled' });
    expect(l.snapshot()).toMatchObject({ effectiveRequestsPerMinute: 420, throttles: 2, decreases: 1 });
  });

  it('never decreases below the minimum fraction', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { decrease: { cooldownMs: 0, minFraction: 0.5 } });
    for (let i = 0; i < 5; i++) {
      const p = await l.acquire();
      p.release({ outcome: 'throttled' });
      await clock.advance(60_000);
    }
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(300);
  });

  it('adds back 5% of the configured rate per success window, up to the configured rate', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { startFraction: 0.9, increase: { intervalMs: 10_000 } });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(540);

    const succeedAt = async (t: number) => {
      const p = await l.acquire();
      await clock.advance(t - clock.now());
      p.release({ outcome: 'ok' });
      return l.snapshot().effectiveRequestsPerMinute;
    };
    expect(await succeedAt(5_000)).toBeCloseTo(540);
    expect(await succeedAt(10_000)).toBeCloseTo(570);
    expect(await succeedAt(15_000)).toBeCloseTo(570);
    expect(await succeedAt(20_000)).toBeCloseTo(600);
    expect(await succeedAt(30_000)).toBeCloseTo(600);
    expect(l.snapshot().increases).toBe(2);
  });

  it('restarts the success window on a throttle', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { increase: { intervalMs: 10_000 }, decrease: { cooldownMs: 30_000 } });
    (await l.acquire()).release({ outcome: 'throttled' });
    await clock.advance(9_000);
    (await l.acquire()).release({ outcome: 'throttled' }); // inside the cooldown: no decrease, but no success window either
    await clock.advance(9_000);
    (await l.acquire()).release({ outcome: 'ok' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(420);
    await clock.advance(1_000);
    (await l.acquire()).release({ outcome: 'ok' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(450);
  });

  it('paces at the reduced rate after a decrease', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 60, burst: { requests: 1 } });
    (await l.acquire()).release({ outcome: 'throttled' }); // 60 -> 42 per minute
    const { granted } = acquireAll(l, [0]);
    const interval = 60_000 / 42;
    await clock.advance(Math.floor(interval) - 1);
    expect(granted).toEqual([]);
    await clock.advance(2);
    expect(granted).toEqual([0]);
  });
});

describe('QuotaLimiter admission', () => {
  it('caps calls in flight and admits the next on release', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { maxInFlight: 2 });
    const { granted, permits } = acquireAll(l, [0, 0, 0, 0]);
    await settle();
    expect(granted).toEqual([0, 1]);
    expect(l.snapshot()).toMatchObject({ inFlight: 2, queued: 2 });
    expect(clock.pending).toBe(0);

    permits[0]!.release({ outcome: 'ok' });
    permits[0]!.release({ outcome: 'ok' }); // a second release is ignored
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    expect(l.snapshot()).toMatchObject({ inFlight: 2, queued: 1 });
  });

  it('is first come first served: a small request does not overtake a big one', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { tokensPerMinute: 60_000, burst: { requests: 10, tokens: 1000 } });
    await l.acquire(1000);
    const { granted } = acquireAll(l, [800, 10, 10]);
    await clock.advance(799);
    expect(granted).toEqual([]);
    await clock.advance(1);
    expect(granted).toEqual([0]);
    await clock.advance(20);
    expect(granted).toEqual([0, 1, 2]);
  });

  it('grants requests in arrival order when paced', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 6000, burst: { requests: 1 } });
    const { granted } = acquireAll(l, Array(20).fill(0));
    await clock.advance(1000);
    expect(granted).toEqual([...Array(20).keys()]);
  });

  it('rejects a waiter whose signal aborts, and lets the ones behind it through', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { tokensPerMinute: 60_000, burst: { requests: 10, tokens: 1000 } });
    await l.acquire(1000);
    const controller = new AbortController();
    const big = l.acquire(1000, controller.signal);
    const { granted } = acquireAll(l, [100]);
    await clock.advance(50);
    expect(granted).toEqual([]);

    const reason = new Error('activity cancelled');
    controller.abort(reason);
    await expect(big).rejects.toBe(reason);
    await clock.advance(50);
    expect(granted).toEqual([0]);
    expect(l.snapshot()).toMatchObject({ queued: 0, inFlight: 2 });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const clock = new FakeClock();
    const l = limiter(clock);
    const reason = new Error('gone');
    await expect(l.acquire(0, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(l.snapshot()).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('works on real timers with the default clock and sleep', async () => {
    const l = new QuotaLimiter({ requestsPerMinute: 60_000, maxInFlight: 4, burst: { requests: 2 } });
    const permits = await Promise.all(Array.from({ length: 4 }, () => l.acquire()));
    expect(l.snapshot().inFlight).toBe(4);
    for (const p of permits) p.release({ outcome: 'ok' });
    expect(l.snapshot().inFlight).toBe(0);
  });

  it('rejects nonsense options', () => {
    expect(() => new QuotaLimiter({ requestsPerMinute: 0, maxInFlight: 1 })).toThrow(RangeError);
    expect(() => new QuotaLimiter({ requestsPerMinute: 10, maxInFlight: 0 })).toThrow(RangeError);
    expect(() => new QuotaLimiter({ requestsPerMinute: 10, maxInFlight: 1, decrease: { factor: 1.5 } })).toThrow(
      RangeError,
    );
  });
});

describe('QuotaLimiter share of a shared account (setShare)', () => {
  it('paces at its share of the configured rate, and again at the whole when the share returns', async () => {
    const clock = new FakeClock();
    // 60/min, one at a time: a call a second alone, one every four seconds as one of four processes.
    const l = limiter(clock, { requestsPerMinute: 60, burst: { requests: 1 } });
    l.setShare(0.25);
    expect(l.snapshot().configuredRequestsPerMinute).toBe(15);
    const { granted } = acquireAll(l, Array(4).fill(0));
    await settle();
    expect(granted).toHaveLength(1);
    await clock.advance(3999);
    expect(granted).toHaveLength(1);
    await clock.advance(1);
    expect(granted).toHaveLength(2);
    // Two processes left: every two seconds.
    l.setShare(0.5);
    await clock.advance(2000);
    expect(granted).toHaveLength(3);
    l.setShare(1);
    await clock.advance(1000);
    expect(granted).toHaveLength(4);
  });

  it('keeps an adaptive cut in place under a new share', async () => {
    const clock = new FakeClock();
    const l = limiter(clock, { requestsPerMinute: 600 });
    const { permits } = acquireAll(l, [0]);
    await settle();
    permits[0]!.release({ outcome: 'throttled' });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(420, 6);
    l.setShare(0.5);
    expect(l.snapshot()).toMatchObject({ configuredRequestsPerMinute: 300 });
    expect(l.snapshot().effectiveRequestsPerMinute).toBeCloseTo(210, 6);
  });
});

// Issue 19: a run answers its steps in order, and the calls of steps judged ahead went first as
// often as not: the run's first step, half its callers, finished last and the judge then idled.
describe('QuotaLimiter call order', () => {
  /** Acquires a permit per label (`A3`: group A, rank 3; `-x`: no order), recording each label when granted. */
  function acquireLabelled(l: QuotaLimiter, labels: string[], granted: string[]): void {
    for (const label of labels) {
      const acquire = () => l.acquire(0).then(() => void granted.push(label));
      if (label.startsWith('-')) void acquire();
      else void inCallOrder({ group: label[0]!, rank: Number(label.slice(1)) }, acquire);
    }
  }

  /** One call a second, one at a time. */
  const slowLimiter = (clock: FakeClock) => limiter(clock, { requestsPerMinute: 60, burst: { requests: 1 } });

  it("admits a group's lowest rank first, in the places of the group's calls, and other groups in their order", async () => {
    const clock = new FakeClock();
    const granted: string[] = [];
    acquireLabelled(slowLimiter(clock), ['-first', 'A3', 'A1', 'B0', 'A2', 'B1'], granted);
    await settle();
    expect(granted).toEqual(['-first']);
    await clock.advance(5000);
    // A's calls took the places A's calls had (the first, second and fourth waiting), lowest rank first.
    expect(granted).toEqual(['-first', 'A1', 'A2', 'B0', 'A3', 'B1']);
  });

  it('never holds another group back while one keeps sending lower ranks', async () => {
    const clock = new FakeClock();
    const l = slowLimiter(clock);
    const granted: string[] = [];
    acquireLabelled(l, ['-first', 'A9', 'B0'], granted);
    for (let rank = 5; rank > 0; rank--) {
      await clock.advance(500);
      acquireLabelled(l, [`A${rank}`], granted);
      await clock.advance(500);
    }
    // B0 waited behind one call of A's: one of A's goes first, then B0, whatever A sent after it.
    expect(granted.slice(0, 3)).toEqual(['-first', 'A5', 'B0']);
  });

  it('keeps arrival order for calls without an order', async () => {
    const clock = new FakeClock();
    const granted: string[] = [];
    acquireLabelled(slowLimiter(clock), ['-0', '-1', 'A5', '-3', 'A1'], granted);
    await clock.advance(5000);
    expect(granted).toEqual(['-0', '-1', 'A1', '-3', 'A5']);
  });
});
