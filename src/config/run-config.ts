import { z } from 'zod';
import { RewardConfigSchema } from './reward-config';
import { JudgeConfigSchema, PriceSchema } from './judge-config';
import { CanaryConfigSchema } from './canary-config';
import { checkRunnable } from './runnable-checks';
import { parseOrThrow } from './validation-error';

// Pure zod: the workflow sandbox imports this file to validate its input.

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True when `id` can name a run's folder under outputDir: no separators, no `..`, no leading dot. */
export function isSafeRunId(id: string): boolean {
  return RUN_ID.test(id);
}

/** A name that is safe as a folder name (a run's, a version's). */
export const SafeIdSchema = z.string().regex(RUN_ID, 'letters, digits, ".", "_" and "-" only, at most 128, starting with a letter or digit');

export const DirectorySourceSchema = z
  .object({
    /** The trainer writes `step-NNNNNN.jsonl` files into `path` (relative paths: the worker's cwd). */
    type: z.literal('directory'),
    path: z.string().min(1),
    /** How long a step waits for its file before the step fails. */
    waitTimeoutSeconds: z.number().int().min(1).default(24 * 3600),
  })
  .strict();

export const UpdateSourceSchema = z
  .object({
    /** The trainer sends each step with the `submitRollouts` Update and gets the rewards back. */
    type: z.literal('updates'),
    /**
     * Keep each step's staged rollouts (the run's inbox) after its checkpoint: they are what
     * `arbiter run rejudge` judges again. `false` deletes a step's staged file once it is checkpointed.
     */
    keepInput: z.boolean().default(true),
  })
  .strict();

export const RolloutSourceSchema = z.discriminatedUnion('type', [DirectorySourceSchema, UpdateSourceSchema]);

export const FallbackSchema = z
  .object({
    /**
     * What a sample whose judge failed gets: `neutral` (neutralValue), `deterministic-only`
     * (the other reward components), or `exclude` (the trainer is told to drop it). Always flagged.
     */
    policy: z.enum(['neutral', 'deterministic-only', 'exclude']).default('neutral'),
    /**
     * The `neutral` policy's reward, in the reward's own range ([rewards.minReward,
     * rewards.maxReward]); default its midpoint. Filled in by RunConfigSchema.
     */
    neutralValue: z.number().optional(),
    /** A step whose share of fallbacks exceeds this pauses the run (1 = never). */
    maxRate: z.number().min(0).max(1).default(0.2),
  })
  .strict()
  .prefault({});

export const QuarantineSchema = z
  .object({
    /**
     * A step with a larger share of its lines quarantined (or with no valid rollout) is not
     * scored: the run pauses and names the file, since a fraction of a step is not the step.
     */
    maxShare: z.number().min(0).max(1).default(0.1),
  })
  .strict()
  .prefault({});

export const ActivityPolicySchema = z
  .object({
    /** One chunk's scoring may take this long per attempt. */
    startToCloseSeconds: z.number().int().min(1).default(1800),
    /** A worker that stops heartbeating this long is presumed dead; the chunk moves on. */
    heartbeatSeconds: z.number().int().min(1).default(60),
    maximumAttempts: z.number().int().min(1).default(10),
    initialIntervalSeconds: z.number().min(0.1).default(1),
    backoffCoefficient: z.number().min(1).default(2),
    maximumIntervalSeconds: z.number().min(1).default(60),
  })
  .strict()
  .prefault({});

export const ReviewSchema = z
  .object({
    /** Every K steps a sample goes to human review (0 = only flagged samples, never periodic). */
    everySteps: z.number().int().min(0).default(0),
    /** Rollouts drawn at random from a review step. */
    samples: z.number().int().min(0).max(100).default(4),
    /** Also review every judgement flagged inconsistent or scored within this distance of 0.5. */
    lowConfidenceMargin: z.number().min(0).max(0.5).default(0),
    /** Flagged samples sent per step at most. */
    maxFlaggedPerStep: z.number().int().min(0).max(100).default(4),
    deadlineHours: z.number().min(0.001).default(72),
    /** Pause the run when judge-human agreement (accuracy) falls below this, after minReviews. */
    agreementFloor: z.number().min(0).max(1).optional(),
    minReviews: z.number().int().min(1).default(10),
  })
  .strict()
  .prefault({});

export const RunConfigSchema = z
  .object({
    /** Names the run's output folder; defaults to the workflow id. */
    runId: SafeIdSchema.optional(),
    /** Number of training steps to score. */
    steps: z.number().int().min(1).max(1_000_000),
    /** First step number (steps are numbered from 1 by default). */
    firstStep: z.number().int().min(0).default(1),
    rollouts: RolloutSourceSchema,
    quarantine: QuarantineSchema,
    judge: JudgeConfigSchema.default({ provider: 'offline-heuristic', mode: 'rubric' }),
    rewards: RewardConfigSchema.prefault({}),
    fallback: FallbackSchema,
    /** Rollouts per scoring activity. */
    chunkSize: z.number().int().min(1).max(10_000).default(64),
    /**
     * A step never needs more scoring activities than this: larger steps get larger chunks, so
     * the history of a step stays bounded however many rollouts it has.
     */
    maxChunksPerStep: z.number().int().min(1).max(1000).default(256),
    /** Scoring activities of one step running at once (Temporal allows 2,000 pending per run). */
    maxChunksInFlight: z.number().int().min(1).max(200).default(8),
    scoring: ActivityPolicySchema,
    review: ReviewSchema,
    /** Gold items judged in every step beside the rollouts; a falling accuracy pauses the run. */
    canary: CanaryConfigSchema.optional(),
    /** Per-model prices (USD per million tokens) for cost estimates, keyed by model id. */
    prices: z.record(z.string(), PriceSchema).default({}),
    /** Pause the run before a step when the estimated cost so far has reached this. */
    budgetUsd: z.number().positive().optional(),
    /** Reuse judgements of identical (judge, rubric, prompt, response) across retries and runs. */
    cache: z.boolean().default(true),
    /** Start a fresh history after this many steps even if Temporal has not suggested it. */
    continueAsNewEverySteps: z.number().int().min(1).default(200),
    /** Root of the run artifacts: `<outputDir>/<runId>/steps/NNNNNN.rewards.jsonl`. */
    outputDir: z.string().min(1).default('runs'),
  })
  .strict()
  .superRefine(checkRunnable)
  .superRefine((config, ctx) => {
    if (config.canary && config.judge.mode !== 'rubric') {
      ctx.addIssue({
        code: 'custom',
        path: ['canary'],
        message: `canaries are gold pass/fail items, judged in rubric mode; this run's judge.mode is ${config.judge.mode}`,
      });
    }
  })
  .superRefine((config, ctx) => {
    const { minReward, maxReward } = config.rewards;
    const neutral = config.fallback.neutralValue;
    if (neutral !== undefined && !(neutral >= minReward && neutral <= maxReward)) {
      ctx.addIssue({
        code: 'custom',
        path: ['fallback', 'neutralValue'],
        message: `must be a reward in the run's reward range [${minReward}, ${maxReward}] (rewards.minReward, rewards.maxReward), got ${neutral}`,
      });
    }
  })
  // Neutral means "neither good nor bad" on the trainer's scale, wherever that scale sits.
  .overwrite((config) =>
    config.fallback.neutralValue !== undefined
      ? config
      : { ...config, fallback: { ...config.fallback, neutralValue: (config.rewards.minReward + config.rewards.maxReward) / 2 } },
  );

export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;
export type { JudgeConfig } from './judge-config';

/** Validates a run config, throwing a ConfigError whose lines name each bad field. */
export function parseRunConfig(input: unknown): RunConfig {
  return parseOrThrow(RunConfigSchema, input, 'run config');
}
