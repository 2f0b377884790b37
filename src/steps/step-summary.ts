import type { JudgeFailureReason, RewardRecord } from '../contract/reward-record';
import type { CanarySummary } from './canary-tally';

/** What a step leaves in workflow history and the manifest: numbers, never rollout text. */
export interface StepSummary {
  step: number;
  count: number;
  scored: number;
  fallback: number;
  excluded: number;
  quarantined: number;
  fallbackRate: number;
  fallbackByReason: Partial<Record<JudgeFailureReason, number>>;
  /** p10 is absent in manifests written before it was added. */
  reward: { mean: number; std: number; min: number; p10?: number; p50: number; p90: number; max: number };
  componentMeans: Record<string, number>;
  /** Tokens paid for in this step (cache hits cost nothing). */
  inputTokens: number;
  outputTokens: number;
  cached: number;
  /**
   * Judge questions asked in this step: each ask, re-ask of an unusable answer and recovery pass
   * (both orders of a preference pair). Retries after throttling, 5xx or a timeout are not
   * counted: GovernedChatModel makes them below the judge, unseen by it.
   */
  calls: number;
  /** Estimated from the run's price table; 0 when the model has no price. */
  costUsd: number;
  /** Wall time of the step in the run, from its start to its checkpoint (set by the workflow). */
  durationMs?: number;
  /** The step's gold canaries against the judge (runs with a canary config only). */
  canary?: CanarySummary;
}

/** Accumulates a step's records one at a time; keeps only the reward values for percentiles. */
export class StepStats {
  private rewards: number[] = [];
  private components = new Map<string, { sum: number; n: number }>();
  private s: Omit<StepSummary, 'reward' | 'componentMeans' | 'fallbackRate' | 'step' | 'quarantined' | 'costUsd'> = {
    count: 0,
    scored: 0,
    fallback: 0,
    excluded: 0,
    fallbackByReason: {},
    inputTokens: 0,
    outputTokens: 0,
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
  }

  summary(step: number, quarantined: number, price?: { inputPerMTok: number; outputPerMTok: number }): StepSummary {
    const sorted = Float64Array.from(this.rewards).sort();
    const n = sorted.length;
    const mean = n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n;
    const variance = n === 0 ? 0 : sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const q = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(p * (n - 1) + 0.5))]!);
    const componentMeans: Record<string, number> = {};
    for (const [name, c] of [...this.components].sort(([a], [b]) => a.localeCompare(b))) {
      componentMeans[name] = round(c.sum / c.n);
    }
    const failed = this.s.fallback + this.s.excluded;
    return {
      step,
      ...this.s,
      quarantined,
      costUsd: price ? round((this.s.inputTokens * price.inputPerMTok + this.s.outputTokens * price.outputPerMTok) / 1e6) : 0,
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
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
