import type { RewardRecord } from '../contract/reward-record';
import { seededRandom } from '../util/seeded-random';

export interface ReviewPolicy {
  /** Random samples from the step (0 on steps that are not review steps). */
  samples: number;
  /** Judgements scored within this distance of 0.5 count as low-confidence. */
  lowConfidenceMargin: number;
  maxFlagged: number;
  seed: number;
}

export type Pick = { record: RewardRecord; why: 'sampled' | 'inconsistent' | 'low-confidence' };

/**
 * Chooses a step's review items while its records stream past: flagged judgements
 * (inconsistent, or close to the pass/fail line) first, plus a uniform random sample of the
 * rest by reservoir sampling, so memory stays bounded whatever the step size.
 */
export class ReviewPicker {
  private flagged: Pick[] = [];
  private reservoir: RewardRecord[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(private readonly policy: ReviewPolicy) {
    this.random = seededRandom(policy.seed);
  }

  offer(record: RewardRecord): void {
    if (record.status !== 'scored') return;
    const judge = record.breakdown.judge;
    if (record.flags.includes('inconsistent')) return this.flag({ record, why: 'inconsistent' });
    if (judge !== undefined && Math.abs(judge - 0.5) < this.policy.lowConfidenceMargin) {
      return this.flag({ record, why: 'low-confidence' });
    }
    if (this.policy.samples === 0) return;
    this.seen++;
    if (this.reservoir.length < this.policy.samples) this.reservoir.push(record);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.policy.samples) this.reservoir[j] = record;
    }
  }

  picks(): Pick[] {
    return [...this.flagged, ...this.reservoir.map((record) => ({ record, why: 'sampled' as const }))];
  }

  private flag(pick: Pick): void {
    if (this.flagged.length < this.policy.maxFlagged) this.flagged.push(pick);
  }
}
