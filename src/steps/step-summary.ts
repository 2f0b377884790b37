import type { RewardRecord } from '../contract/reward-record';
import type { StepSummary } from '../contract/step-summary';
import { knownPrice } from '../config/known-prices';
import { withCachePrices, type TokenPrice } from '../config/prompt-cache-support';
import { nearestRankQuantile } from '../stats/quantile';

/** Accumulates a step's records one at a time; keeps only the reward values for percentiles. */
export class StepStats {
  private rewards: number[] = [];
  private components = new Map<string, { sum: number; n: number }>();
  private model: string | undefined;
  private s: Omit<StepSummary, 'reward' | 'componentMeans' | 'fallbackRate' | 'step' | 'quarantined' | 'costUsd'> &
    Required<Pick<StepSummary, 'cacheReadInputTokens' | 'cacheWriteInputTokens'>> = {
    count: 0,
    scored: 0,
    fallback: 0,
    excluded: 0,
    fallbackByReason: {},
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    cached: 0,
    calls: 0,
  };

  add(r: RewardRecord): void {
    this.s.count++;
    this.s[r.status]++;
    if (r.judge.cached) this.s.cached++;
    else this.addCost(r);
    const reason = r.judge.failure?.reason;
    if (reason && r.status !== 'scored') this.s.fallbackByReason[reason] = (this.s.fallbackByReason[reason] ?? 0) + 1;
    // An excluded sample has no reward: it counts, but not towards the reward statistics.
    if (r.status === 'excluded' || r.reward === null) return;
    this.rewards.push(r.reward);
    for (const [name, value] of Object.entries(r.breakdown)) {
      const c = this.components.get(name) ?? { sum: 0, n: 0 };
      c.sum += value;
      c.n++;
      this.components.set(name, c);
    }
  }

  /** Calls and tokens only: judging a canary costs what judging a rollout does, though it is no reward. */
  addCost(r: RewardRecord): void {
    if (r.judge.cached) return;
    this.s.calls += r.judge.attempts;
    this.s.inputTokens += r.judge.inputTokens;
    this.s.outputTokens += r.judge.outputTokens;
    this.s.cacheReadInputTokens += r.judge.cacheReadInputTokens ?? 0;
    this.s.cacheWriteInputTokens += r.judge.cacheWriteInputTokens ?? 0;
    this.model ??= r.judge.model;
  }

  /**
   * `price` is the run's price of the judge model, else the model's list price when Arbiter
   * knows it (known-prices.ts); cache prices default by model family.
   */
  summary(step: number, quarantined: number, price?: TokenPrice): StepSummary {
    const sorted = Float64Array.from(this.rewards).sort();
    const n = sorted.length;
    const mean = n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n;
    const variance = n === 0 ? 0 : sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const q = (p: number) => nearestRankQuantile(sorted, p);
    const componentMeans: Record<string, number> = {};
    for (const [name, c] of [...this.components].sort(([a], [b]) => a.localeCompare(b))) {
      componentMeans[name] = round(c.sum / c.n);
    }
    const failed = this.s.fallback + this.s.excluded;
    return {
      step,
      ...this.s,
      quarantined,
      costUsd: this.costWith(price),
      fallbackRate: this.s.count === 0 ? 0 : round(failed / this.s.count),
      reward: {
        mean: round(mean),
        std: round(Math.sqrt(variance)),
        min: round(q(0)),
        p10: round(q(0.1)),
        p50: round(q(0.5)),
        p90: round(q(0.9)),
        max: round(q(1)),
      },
      componentMeans,
    };
  }

  private costWith(given: TokenPrice | undefined): number {
    const price = given ?? (this.model === undefined ? undefined : knownPrice(this.model));
    return price ? this.cost(withCachePrices(price, this.model)) : 0;
  }

  private cost(price: Required<TokenPrice>): number {
    const { inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens } = this.s;
    return round(
      (inputTokens * price.inputPerMTok +
        outputTokens * price.outputPerMTok +
        cacheReadInputTokens * price.cacheReadPerMTok +
        cacheWriteInputTokens * price.cacheWritePerMTok) /
        1e6,
    );
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
