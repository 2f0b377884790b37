import { storeFor } from '../storage/stores';
import { hashSeed, seededRandom } from '../util/seeded-random';
import { nearestRankQuantile } from '../stats/quantile';

/** What the report needs from one step's rewards file that the manifest's summary may lack. */
export interface StepFacts {
  step: number;
  /** Percentiles of the rewards of the step (excluded rollouts have none), computed as StepStats does. */
  reward: { p10: number; p50: number; p90: number } | undefined;
  /** Rubric criteria: how many scored rollouts the judge passed on each, of how many it judged. */
  criteria: Record<string, { passed: number; judged: number }>;
  /** A sample of (response length, reward) points: every rollout up to `maxPoints`, else a fixed-seed reservoir. */
  lengthPoints: LengthPoint[];
  /** Rewarded rollouts with a response length on record (the sample holds at most `maxPoints` of them). */
  withLength: number;
  /** The judge of the file's last record, for a report made without asking the run. */
  judge: { provider: string; model: string | undefined } | undefined;
  /** Rollouts in the file, and lines that were not records (a torn or foreign line). */
  records: number;
  unreadable: number;
}

export interface LengthPoint {
  step: number;
  chars: number;
  reward: number;
  status: string;
}

/** The fields of a reward record the report reads; parsed leniently so old files still count. */
interface RecordFields {
  reward?: unknown;
  status?: unknown;
  responseChars?: unknown;
  judge?: { criteria?: unknown; provider?: unknown; model?: unknown };
}

/**
 * Reads one step's rewards file once, keeping numbers only: the rewards (for percentiles), the
 * per-criterion counts and a bounded sample of length points, so a huge step costs memory for
 * its rewards, never for its text.
 */
export async function readStepFacts(path: string, step: number, maxPoints: number): Promise<StepFacts> {
  const rewards: number[] = [];
  const criteria: StepFacts['criteria'] = {};
  const points: LengthPoint[] = [];
  const random = seededRandom(hashSeed(`report:${step}`));
  let withLength = 0;
  let records = 0;
  let judge: StepFacts['judge'];
  let unreadable = 0;
  for await (const line of storeFor(path).readLines(path)) {
    if ('error' in line) {
      unreadable++;
      continue;
    }
    if (!line.text.trim()) continue;
    let r: RecordFields;
    try {
      r = JSON.parse(line.text) as RecordFields;
    } catch {
      unreadable++;
      continue;
    }
    records++;
    if (typeof r.judge?.provider === 'string') judge = { provider: r.judge.provider, model: typeof r.judge.model === 'string' ? r.judge.model : undefined };
    if (typeof r.reward !== 'number' || r.status === 'excluded') continue;
    rewards.push(r.reward);
    for (const c of Array.isArray(r.judge?.criteria) ? r.judge.criteria : []) {
      const { id, pass } = c as { id?: unknown; pass?: unknown };
      if (typeof id !== 'string' || typeof pass !== 'boolean') continue;
      const counts = (criteria[id] ??= { passed: 0, judged: 0 });
      counts.judged++;
      if (pass) counts.passed++;
    }
    if (typeof r.responseChars === 'number') {
      const point = { step, chars: r.responseChars, reward: r.reward, status: String(r.status) };
      withLength++;
      // Reservoir sampling: each point ends up kept with the same chance, in one pass.
      if (points.length < maxPoints) points.push(point);
      else {
        const slot = Math.floor(random() * withLength);
        if (slot < maxPoints) points[slot] = point;
      }
    }
  }
  const sorted = Float64Array.from(rewards).sort();
  return {
    step,
    reward: sorted.length === 0 ? undefined : { p10: quantile(sorted, 0.1), p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) },
    criteria,
    lengthPoints: points,
    withLength,
    judge,
    records,
    unreadable,
  };
}

/** The nearest-rank quantile StepStats uses (src/stats/quantile.ts), rounded as it rounds, so a computed p10 matches a recorded one. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  return round(nearestRankQuantile(sorted, p));
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
