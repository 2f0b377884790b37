import type { Rollout } from '../config/rollout';
import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';
import type { RewardRecord } from '../contract/reward-record';
import type { RunConfig } from '../config/run-config';
import type { CriterionVerdict, JudgeCost } from '../judges/judge';
import { combineReward } from './formula';

/** A judge's verdict on one rollout, whatever the mode (rubric score or preference win rate). */
export type JudgeVerdict = JudgeCost & { cached?: boolean } & (
  | { ok: true; score: number; rationale: string; criteria?: CriterionVerdict[]; flags?: string[] }
  | { ok: false; reason: JudgeFailureReason | undefined; message: string; flags?: string[] }
);

export interface JudgeIdentity {
  provider: string;
  model: string;
  rubricHash?: string;
}

/**
 * The reward record of one rollout: the judge's score combined with the deterministic
 * components by the run's weights, or, when the judge failed, the configured fallback, always
 * flagged. Every record keeps its breakdown and the judge's details.
 */
export function rewardRecordFor(args: {
  step: number;
  rollout: Rollout;
  judge: JudgeIdentity;
  verdict: JudgeVerdict;
  rewards: RunConfig['rewards'];
  fallback: RunConfig['fallback'];
}): RewardRecord {
  const { step, rollout, judge, verdict, rewards, fallback } = args;
  const details = {
    provider: judge.provider,
    model: judge.model,
    attempts: verdict.attempts,
    inputTokens: verdict.usage.inputTokens,
    outputTokens: verdict.usage.outputTokens,
    ...(verdict.usage.cacheReadInputTokens && { cacheReadInputTokens: verdict.usage.cacheReadInputTokens }),
    ...(verdict.usage.cacheWriteInputTokens && { cacheWriteInputTokens: verdict.usage.cacheWriteInputTokens }),
    latencyMs: Math.round(verdict.latencyMs * 1000) / 1000,
    ...(judge.rubricHash && { rubricHash: judge.rubricHash }),
    ...(verdict.cached && { cached: true }),
  };
  const flags = [...(verdict.flags ?? [])];
  // Configs parsed by RunConfigSchema carry it; the midpoint keeps "neutral" neutral for any other.
  const neutral = fallback.neutralValue ?? (rewards.minReward + rewards.maxReward) / 2;

  if (verdict.ok) {
    const combined = combineReward({
      judgeScore: verdict.score,
      rollout,
      config: rewards,
      policy: { type: 'neutral', value: neutral },
    });
    if (combined.vetoed) flags.push('safety-veto');
    return {
      id: rollout.id,
      step,
      reward: combined.reward ?? neutral,
      status: 'scored',
      breakdown: combined.breakdown,
      judge: {
        ...details,
        rationale: verdict.rationale,
        // Kept so a reviewer sees what the judge decided on each criterion, not only the sum.
        ...(verdict.criteria && verdict.criteria.length > 0 && { criteria: verdict.criteria.map(({ id, pass, evidence }) => ({ id, pass, evidence })) }),
      },
      flags,
      ...(combined.notes.length > 0 && { notes: combined.notes }),
    };
  }

  flags.push(verdict.reason ? `fallback:${verdict.reason}` : 'fallback');
  const combined = combineReward({
    judgeScore: undefined,
    rollout,
    config: rewards,
    policy:
      fallback.policy === 'deterministic-only'
        ? { type: 'deterministic-only' }
        : { type: 'neutral', value: neutral },
  });
  if (combined.vetoed) flags.push('safety-veto');
  const notes = [...combined.notes];
  const excluded = fallback.policy === 'exclude';
  if (combined.reward === undefined && !excluded) notes.push('fallback: no deterministic component has a weight; neutral value used');
  return {
    id: rollout.id,
    step,
    // No number at all: a trainer that forgets to check the status cannot train on a stand-in.
    reward: excluded ? null : (combined.reward ?? neutral),
    status: excluded ? 'excluded' : 'fallback',
    breakdown: combined.breakdown,
    judge: {
      ...details,
      rationale: '',
      ...(verdict.reason && { failure: { reason: verdict.reason, message: verdict.message.slice(0, 1000) } }),
    },
    flags,
    ...(notes.length > 0 && { notes }),
  };
}
