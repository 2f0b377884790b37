import type { Rollout } from '../config/rollout';
import type { RewardRecord } from '../config/reward-record';
import type { Judge, Judgement } from '../judges/judge';

/** The reward a sample gets when its judge failed; always flagged, never silent. */
export const NEUTRAL_FALLBACK = 0.5;

/** Combines a judgement into the reward record written to the step artifact. */
export function composeReward(step: number, rollout: Rollout, judge: Judge, judgement: Judgement): RewardRecord {
  const base = {
    provider: judge.provider,
    model: judge.model,
    attempts: judgement.attempts,
    inputTokens: judgement.usage.inputTokens,
    outputTokens: judgement.usage.outputTokens,
    latencyMs: Math.round(judgement.latencyMs * 1000) / 1000,
  };
  if (judgement.ok) {
    return {
      id: rollout.id,
      step,
      reward: judgement.score,
      status: 'scored',
      breakdown: { judge: judgement.score },
      judge: { ...base, rationale: judgement.rationale },
      flags: [],
    };
  }
  return {
    id: rollout.id,
    step,
    reward: NEUTRAL_FALLBACK,
    status: 'fallback',
    breakdown: {},
    judge: { ...base, rationale: '', failure: { reason: judgement.reason, message: judgement.message } },
    flags: [`fallback:${judgement.reason}`],
  };
}
