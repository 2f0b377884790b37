import { z } from 'zod';
import { JUDGE_FAILURE_REASONS } from '../call-policy/judge-failure-reason';

export const JudgeFailureReasonSchema = z.enum(JUDGE_FAILURE_REASONS);

export const RewardStatusSchema = z.enum(['scored', 'fallback', 'excluded']);
export type RewardStatus = z.infer<typeof RewardStatusSchema>;

/** One line of `steps/NNNNNN.rewards.jsonl`: the reward for one rollout and why. */
export const RewardRecordSchema = z.object({
  id: z.string(),
  step: z.number().int(),
  /** In [rewards.minReward, rewards.maxReward]; null when `excluded`: there is no reward to train on. */
  reward: z.number().nullable(),
  status: RewardStatusSchema,
  /** Each component's value in [0, 1] before weighting; `judge` absent when the judge failed. */
  breakdown: z.record(z.string(), z.number()),
  judge: z.object({
    provider: z.string(),
    model: z.string(),
    rationale: z.string(),
    attempts: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    /** Input tokens Bedrock read from its prompt cache (not in inputTokens; billed at the cache-read price). */
    cacheReadInputTokens: z.number().int().optional(),
    /** Input tokens written to Bedrock's prompt cache (not in inputTokens; billed at the cache-write price). */
    cacheWriteInputTokens: z.number().int().optional(),
    latencyMs: z.number(),
    /** Hash of the rubric and prompt template version that produced the judgement. */
    rubricHash: z.string().optional(),
    /** Taken from the judge cache: paid for once, earlier. */
    cached: z.boolean().optional(),
    failure: z.object({ reason: JudgeFailureReasonSchema, message: z.string() }).optional(),
    /** Rubric mode: the judge's pass/fail on each criterion, with its evidence, in the rubric's order. */
    criteria: z.array(z.object({ id: z.string(), pass: z.boolean(), evidence: z.string() })).optional(),
  }),
  /** Why this reward deserves a second look: `fallback:<reason>`, `inconsistent`, ... */
  flags: z.array(z.string()),
  /** Component notes, e.g. `length: 412 words > max 300`. */
  notes: z.array(z.string()).optional(),
  /** Length of the response in characters (UTF-16 units, as JavaScript counts): the run report plots reward against it. */
  responseChars: z.number().int().optional(),
});
export type RewardRecord = z.infer<typeof RewardRecordSchema>;

/** A reward as a trainer gets it back inline: the number and whether to trust it, without the breakdown. */
export interface BriefReward {
  id: string;
  reward: number | null;
  status: string;
  flags: string[];
  /** Each component's value in [0, 1] before weighting (absent in results recorded before it was sent). */
  breakdown?: Record<string, number>;
}

export function briefReward(record: RewardRecord): BriefReward {
  return { id: record.id, reward: record.reward, status: record.status, flags: record.flags, breakdown: record.breakdown };
}
