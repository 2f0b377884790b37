import { setTimeout as timersSleep } from 'node:timers/promises';
import { onAbort } from '../util/abort-fanout';
import { currentCallOrder, type CallOrder } from './call-order';

/**
 * Shared limiter for judge calls against one provider quota (requests and tokens per minute).
 *
 * It is per process. It knows nothing of other processes, and the default does not divide
 * anything: each limiter assumes it owns the `requestsPerMinute` / `tokensPerMinute` it is given.
 * With N worker processes on one quota, either configure each with its share (quota / N:
 * predictable pacing, no throttled calls wasted), or give each the whole quota and let AIMD
 * converge: the processes overshoot together, get 429s, and each backs off multiplicatively
 * until their sum fits. The second costs a burst of throttled calls after every start and
 * keeps probing upwards, so prefer the share when the worker count is known.
 */
export interface QuotaLimiterOptions {
  /** The quota's request budget; also the ceiling of the adaptive rate. */
  requestsPerMinute: number;
  /** The quota's token budget (input + output); omit when the provider has none. */
  tokensPerMinute?: number;
  /** Calls admitted but not yet released, at most. */
  maxInFlight: number;
  /**
   * Bucket capacities at the full configured rate, scaled down with the effective rate.
   * Default: a tenth of a second's worth of requests (at least 1) and one second's worth of
   * tokens. Providers enforce per-minute quotas over short windows: measured against a
   * 50/s quota with a burst of 10, a one-second request burst (50) drew a 429 at start, and
   * the rate cut it caused cost a fifth of a 40-second job; a tenth of a second drew none.
   */
  burst?: { requests?: number; tokens?: number };
  /** Effective rate at start as a fraction of `requestsPerMinute` (default 1). */
  startFraction?: number;
  decrease?: {
    /** Multiplier applied to the effective rate on throttling (default 0.7). */
    factor?: number;
    /** A throttle within this long after the last decrease does not decrease again (default 2000). */
    cooldownMs?: number;
    /** The effective rate never drops below this fraction of the configured rate (default 0.02). */
    minFraction?: number;
  };
  increase?: {
    /** Added to the effective rate per success window, as a fraction of the configured rate (default 0.05). */
    fraction?: number;
    /**
     * Length of a success window: this long without a throttle, with a success at its end
     * (default 2000). Measured: at 10 s, one stray 429 in a 40 s job cost a fifth of its
     * throughput (the rate took a minute to come back); at 2 s it cost a few percent.
     */
    intervalMs?: number;
  };
  /** Monotonic milliseconds; default `performance.now`. */
  clock?: () => number;
  /** Resolves after `ms`, rejects when `signal` aborts; default node's timers/promises. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export type CallOutcome = 'ok' | 'throttled' | 'error';

export interface ReleaseResult {
  /** `error` is any failure that says nothing about the quota (5xx, parse, abort). */
  outcome: CallOutcome;
  /** Tokens the call really used; replaces the estimate in the token bucket. */
  actualTokens?: number;
}

export interface QuotaPermit {
  readonly estimatedTokens: number;
  /** Time spent queued in `acquire`, in clock milliseconds. */
  readonly waitedMs: number;
  /** Idempotent: a second release is ignored. Without a result, the outcome is `error`. */
  release(result?: ReleaseResult): void;
}

export interface QuotaSnapshot {
  configuredRequestsPerMinute: number;
  effectiveRequestsPerMinute: number;
  effectiveTokensPerMinute: number | undefined;
  inFlight: number;
  queued: number;
  /** Throttled responses reported, each one, including those that did not decrease the rate. */
  throttles: number;
  decreases: number;
  increases: number;
  availableRequests: number;
  availableTokens: number | undefined;
}

interface Waiter {
  tokens: number;
  enqueuedAt: number;
  order: CallOrder | undefined;
  resolve(permit: QuotaPermit): void;
  reject(reason: unknown): void;
  detach(): void;
}

// Float refills land a hair under whole numbers; this keeps them from costing an extra tick.
const EPSILON = 1e-9;

export class QuotaLimiter {
  /** The configured budgets times `share` (see setShare): the ceilings the adaptive rate works under. */
  private maxRpm: number;
  private maxTpm: number | undefined;
  private readonly configuredRpm: number;
  private readonly configuredTpm: number | undefined;
  private share = 1;
  private readonly maxInFlight: number;
  private readonly burstRequests: number;
  private readonly burstTokens: number;
  private readonly decreaseFactor: number;
  private readonly cooldownMs: number;
  private readonly minFraction: number;
  private readonly increaseFraction: number;
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  private rpm: number;
  private requestLevel: number;
  private tokenLevel: number;
  private lastRefill: number;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private timer: AbortController | undefined;

  /**
   * Bumped on every decrease. A throttle from a call admitted before the last decrease was
   * sent at the old rate, so it says nothing about the new one: with judge calls lasting
   * longer than the cooldown, this is what stops one overload from cutting the rate again
   * and again as its stragglers come back.
   */
  private epoch = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private windowStart: number;
  private throttles = 0;
  private decreases = 0;
  private increases = 0;

  constructor(options: QuotaLimiterOptions) {
    const { requestsPerMinute, tokensPerMinute, maxInFlight } = options;
    positive('requestsPerMinute', requestsPerMinute);
    if (tokensPerMinute !== undefined) positive('tokensPerMinute', tokensPerMinute);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be an integer >= 1, got ${maxInFlight}`);
    }
    this.maxRpm = this.configuredRpm = requestsPerMinute;
    this.maxTpm = this.configuredTpm = tokensPerMinute;
    this.maxInFlight = maxInFlight;
    this.burstRequests = Math.max(1, options.burst?.requests ?? Math.ceil(requestsPerMinute / 600));
    this.burstTokens = Math.max(1, options.burst?.tokens ?? Math.ceil((tokensPerMinute ?? 0) / 60));
    this.decreaseFactor = fraction('decrease.factor', options.decrease?.factor ?? 0.7);
    this.cooldownMs = options.decrease?.cooldownMs ?? 2000;
    this.minFraction = fraction('decrease.minFraction', options.decrease?.minFraction ?? 0.02);
    this.increaseFraction = options.increase?.fraction ?? 0.05;
    this.intervalMs = options.increase?.intervalMs ?? 2_000;
    this.clock = options.clock ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms, signal) => timersSleep(ms, undefined, { signal }));

    const start = fraction('startFraction', options.startFraction ?? 1);
    this.rpm = Math.max(this.minRpm, requestsPerMinute * start);
    this.requestLevel = this.requestCapacity();
    this.tokenLevel = this.tokenCapacity();
    this.lastRefill = this.clock();
    this.windowStart = this.lastRefill;
  }

  /**
   * Waits, first come first served, for a request slot, `estimatedTokens` of token budget and
   * an in-flight slot. A call estimated above the token burst waits for a full bucket and
   * then takes the bucket into debt, so it is delayed, never starved. When the oldest waiting
   * call has a call order (call-order.ts), the call of its group with the lowest rank goes in
   * its place (the oldest of those).
   */
  acquire(estimatedTokens = 0, signal?: AbortSignal): Promise<QuotaPermit> {
    if (!Number.isFinite(estimatedTokens) || estimatedTokens < 0) {
      return Promise.reject(new RangeError(`estimatedTokens must be >= 0, got ${estimatedTokens}`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<QuotaPermit>((resolve, reject) => {
      const abort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index < 0) return;
        this.queue.splice(index, 1);
        reject(signal?.reason);
        // The head may have been what blocked everyone behind it.
        this.pump();
      };
      const waiter: Waiter = {
        tokens: estimatedTokens,
        enqueuedAt: this.clock(),
        order: currentCallOrder(),
        resolve,
        reject,
        detach: () => stopWaiting(),
      };
      // One listener on the caller's signal for all its waiters (abort-fanout.ts).
      const stopWaiting = signal ? onAbort(signal, abort) : () => {};
      this.queue.push(waiter);
      this.pump();
    });
  }

  /**
   * This process's share of the configured budgets, when several processes pace one account
   * (judge.sharedQuota: 1 / the processes polling its queue). The adaptive rate keeps its place
   * under the new ceiling; the bursts, a fraction of a second of the rate, shrink with it.
   */
  setShare(share: number): void {
    if (!Number.isFinite(share) || share <= 0) throw new RangeError(`share must be > 0, got ${share}`);
    if (share === this.share) return;
    this.refill(this.clock());
    const place = this.fractionOfMax();
    this.share = share;
    this.maxRpm = this.configuredRpm * share;
    this.maxTpm = this.configuredTpm === undefined ? undefined : this.configuredTpm * share;
    this.setRate(this.maxRpm * place);
    this.pump();
  }

  snapshot(): QuotaSnapshot {
    this.refill(this.clock());
    return {
      configuredRequestsPerMinute: this.maxRpm,
      effectiveRequestsPerMinute: this.rpm,
      effectiveTokensPerMinute: this.tpm(),
      inFlight: this.inFlight,
      queued: this.queue.length,
      throttles: this.throttles,
      decreases: this.decreases,
      increases: this.increases,
      availableRequests: this.requestLevel,
      availableTokens: this.maxTpm === undefined ? undefined : this.tokenLevel,
    };
  }

  private get minRpm(): number {
    return this.maxRpm * this.minFraction;
  }

  private get increaseRpm(): number {
    return this.maxRpm * this.increaseFraction;
  }

  private fractionOfMax(): number {
    return this.rpm / this.maxRpm;
  }

  // Throttling rarely says which budget ran out, so the token rate follows the request rate.
  private tpm(): number | undefined {
    return this.maxTpm === undefined ? undefined : this.maxTpm * this.fractionOfMax();
  }

  private requestCapacity(): number {
    return Math.max(1, this.burstRequests * this.fractionOfMax());
  }

  private tokenCapacity(): number {
    return Math.max(1, this.burstTokens * this.fractionOfMax());
  }

  private refill(now: number): void {
    const elapsed = now - this.lastRefill;
    if (elapsed <= 0) return;
    this.lastRefill = now;
    this.requestLevel = Math.min(this.requestCapacity(), this.requestLevel + (elapsed * this.rpm) / 60_000);
    const tpm = this.tpm();
    if (tpm !== undefined) {
      this.tokenLevel = Math.min(this.tokenCapacity(), this.tokenLevel + (elapsed * tpm) / 60_000);
    }
  }

  private setRate(rpm: number): void {
    this.rpm = rpm;
    this.requestLevel = Math.min(this.requestLevel, this.requestCapacity());
    this.tokenLevel = Math.min(this.tokenLevel, this.tokenCapacity());
  }

  private tokensNeeded(waiter: Waiter): number {
    return Math.min(waiter.tokens, this.tokenCapacity());
  }

  private admissible(waiter: Waiter): boolean {
    if (this.inFlight >= this.maxInFlight) return false;
    if (this.requestLevel < 1 - EPSILON) return false;
    return this.maxTpm === undefined || this.tokenLevel >= this.tokensNeeded(waiter) - EPSILON;
  }

  /** Admits from the head of the queue while it can, then sleeps until the head could go. */
  private pump(): void {
    this.timer?.abort();
    this.timer = undefined;
    const now = this.clock();
    this.refill(now);

    let head = this.next();
    while (head && this.admissible(head)) {
      this.take(head);
      head.detach();
      head.resolve(this.admit(head, now));
      head = this.next();
    }
    // Blocked on in-flight: only a release can help, and release pumps.
    if (!head || this.inFlight >= this.maxInFlight) return;

    const requestWait = Math.max(0, 1 - this.requestLevel) / (this.rpm / 60_000);
    const tpm = this.tpm();
    const tokenWait =
      tpm === undefined ? 0 : Math.max(0, this.tokensNeeded(head) - this.tokenLevel) / (tpm / 60_000);
    this.schedule(Math.max(1, Math.ceil(Math.max(requestWait, tokenWait))));
  }

  /** The call to admit next: the oldest, or the first of its group's lowest rank. */
  private next(): Waiter | undefined {
    const oldest = this.queue[0];
    const group = oldest?.order?.group;
    if (group === undefined) return oldest;
    let first = oldest!;
    for (const w of this.queue) if (w.order?.group === group && w.order.rank < first.order!.rank) first = w;
    return first;
  }

  /**
   * Takes `waiter` out of the queue. One that goes in the oldest call's place leaves that call
   * its own place: a group's calls change order among themselves, never with other groups'
   * (a group sending lower ranks all the time cannot hold its oldest call at the head forever).
   */
  private take(waiter: Waiter): void {
    const index = this.queue.indexOf(waiter);
    if (index > 0) this.queue[index] = this.queue[0]!;
    this.queue.shift();
  }

  private schedule(ms: number): void {
    const timer = new AbortController();
    this.timer = timer;
    this.sleep(ms, timer.signal).then(
      () => {
        if (this.timer === timer) this.pump();
      },
      () => {
        // Cancelled: a newer pump owns the schedule.
      },
    );
  }

  private admit(waiter: Waiter, now: number): QuotaPermit {
    this.requestLevel -= 1;
    if (this.maxTpm !== undefined) this.tokenLevel -= waiter.tokens;
    this.inFlight += 1;
    const epoch = this.epoch;
    let released = false;
    return {
      estimatedTokens: waiter.tokens,
      waitedMs: now - waiter.enqueuedAt,
      release: (result = { outcome: 'error' }) => {
        if (released) return;
        released = true;
        this.onRelease(waiter.tokens, epoch, result);
      },
    };
  }

  private onRelease(estimatedTokens: number, epoch: number, result: ReleaseResult): void {
    this.inFlight -= 1;
    const now = this.clock();
    this.refill(now);
    if (this.maxTpm !== undefined && result.actualTokens !== undefined) {
      this.tokenLevel = Math.min(this.tokenCapacity(), this.tokenLevel + estimatedTokens - result.actualTokens);
    }

    if (result.outcome === 'throttled') {
      this.throttles += 1;
      this.windowStart = now;
      if (epoch === this.epoch && now - this.lastDecreaseAt >= this.cooldownMs) {
        this.epoch += 1;
        this.lastDecreaseAt = now;
        this.decreases += 1;
        this.setRate(Math.max(this.minRpm, this.rpm * this.decreaseFactor));
      }
    } else if (result.outcome === 'ok' && now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      if (this.rpm < this.maxRpm) {
        this.increases += 1;
        this.setRate(Math.min(this.maxRpm, this.rpm + this.increaseRpm));
      }
    }
    this.pump();
  }
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be > 0, got ${value}`);
}

function fraction(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${name} must be in (0, 1], got ${value}`);
  }
  return value;
}
