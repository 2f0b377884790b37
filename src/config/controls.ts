import { z } from 'zod';
import { RolloutSchema } from './rollout';
import { JudgeConfigSchema } from './judge-config';

// Payloads of the run's Updates, validated before they are accepted into history. Pure zod.

export const PauseRequestSchema = z.object({ reason: z.string().max(500).optional() }).strict().prefault({});
export type PauseRequest = z.input<typeof PauseRequestSchema>;

/** Part of a config section: checked as part of the whole new run config (see mergeReconfigure). */
const section = z.record(z.string(), z.unknown()).optional();

/**
 * What `reconfigure` may change, named as in the run config file. Sections merge deeply: only
 * the fields named change. The run's shape (steps, rollouts, outputDir, runId) stays.
 */
export const ReconfigureRequestSchema = z
  .object({
    judge: section,
    rewards: section,
    review: section,
    fallback: section,
    quarantine: section,
    scoring: section,
    prices: section,
    canary: section,
    chunkSize: z.number().int().min(1).max(10_000).optional(),
    maxChunksInFlight: z.number().int().min(1).max(200).optional(),
    budgetUsd: z.number().positive().optional(),
    cache: z.boolean().optional(),
    /** Arbiter 0.1's name for `rewards.weights`. */
    weights: section,
    /** Arbiter 0.1's name for `fallback.maxRate`. */
    fallbackMaxRate: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((r) => Object.values(r).some((v) => v !== undefined), { message: 'nothing to change' });
export type ReconfigureRequest = z.input<typeof ReconfigureRequestSchema>;

export const ResumeRequestSchema = z
  .object({
    /** A new judge to use from the next step on (e.g. after the old one kept failing). */
    judge: JudgeConfigSchema.optional(),
    note: z.string().max(500).optional(),
  })
  .strict()
  .prefault({});
export type ResumeRequest = z.input<typeof ResumeRequestSchema>;

export const CancelRequestSchema = z
  .object({
    /** `finish-step`: end after the step in progress is checkpointed; `abandon-step`: stop it now. */
    mode: z.enum(['finish-step', 'abandon-step']).default('finish-step'),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .prefault({});
export type CancelRequest = z.input<typeof CancelRequestSchema>;

/** Above this many inline rollouts the trainer must send a path (claim check) instead. */
export const MAX_INLINE_ROLLOUTS = 1000;

export const SubmitRolloutsRequestSchema = z
  .object({
    step: z.number().int().min(0),
    rollouts: z.array(RolloutSchema).min(1).max(MAX_INLINE_ROLLOUTS).optional(),
    /** A JSONL file the workers can read, for batches too large to travel in history. */
    path: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.rollouts === undefined) !== (r.path === undefined), {
    message: 'give either rollouts or path, not both and not neither',
  });
export type SubmitRolloutsRequest = z.input<typeof SubmitRolloutsRequestSchema>;
