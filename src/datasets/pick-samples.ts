import type { Rollout } from '../config/rollout';
import type { RewardRecord } from '../contract/reward-record';

/** A rollout that may go into a dataset: scored (never fallback or excluded), with the texts it was judged on. */
export interface Candidate {
  record: RewardRecord & { reward: number };
  rollout: Rollout;
}

/** Why a group gave no pair or sample, counted in the export's summary. */
export type Skip = 'single' | 'below-margin' | 'below-min-reward' | 'prompts-differ';

/** A margin this much under the minimum is float noise in the rewards (0.6 − 0.5 is 0.09999999999999998), not under it. */
const ROUNDING = 1e-9;

export function isCandidate(record: RewardRecord): record is RewardRecord & { reward: number } {
  return record.status === 'scored' && record.reward !== null;
}

/**
 * A step's candidates by group, best first. `promptKey` is what the policy was given (for a
 * trajectory, the turns before its own: its tool calls differ from one rollout to the next, so
 * the judge's transcript prompt would put each in a group of its own); a trainer's `group` wins.
 */
export function groupsOf(candidates: readonly Candidate[], promptKey: (rollout: Rollout) => string): Candidate[][] {
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = c.rollout.group !== undefined ? `group:${c.rollout.group}` : `prompt:${promptKey(c.rollout)}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  // Ties go to the smaller id, so the same run always exports the same file.
  const order = (x: Candidate, y: Candidate) => y.record.reward - x.record.reward || (x.record.id < y.record.id ? -1 : 1);
  return [...groups.values()].map((g) => g.sort(order));
}

/** One pair per group: its best against its worst, when their rewards are at least minMargin apart. */
export function pairOf(group: readonly Candidate[], minMargin: number): { chosen: Candidate; rejected: Candidate } | Skip {
  if (group.length < 2) return 'single';
  const chosen = group[0]!;
  const rejected = group.at(-1)!;
  if (chosen.record.reward - rejected.record.reward < minMargin - ROUNDING) return 'below-margin';
  return { chosen, rejected };
}

/** Rejection sampling: the group's best, when it reaches minReward. */
export function bestOf(group: readonly Candidate[], minReward: number | undefined): Candidate | Skip {
  const best = group[0]!;
  if (minReward !== undefined && best.record.reward < minReward - ROUNDING) return 'below-min-reward';
  return best;
}
