import { z } from 'zod';
import { CanaryConfigSchema } from './canary-config';
import { JudgeConfigSchema, PriceSchema } from './judge-config';
import { RewardConfigSchema } from './reward-config';
import {
  ActivityPolicySchema,
  FallbackSchema,
  RolloutSourceSchema,
  RunConfigSchema,
  SafeIdSchema,
  type RunConfig,
  type RunConfigInput,
} from './run-config';
import { parseOrThrow } from './validation-error';

// Pure zod: the rejudgeRun workflow validates its input with it.

export const StepRangeSchema = z
  .object({ from: z.number().int().min(0), to: z.number().int().min(0) })
  .strict()
  .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['to'] });

/**
 * A re-judge of a run's stored rollouts (the `rejudgeRun` workflow): which run, the version's
 * name, and the judge, rewards and fallback to score with, in the shapes of a run config's.
 */
export const RejudgeInputSchema = z
  .object({
    /** The run's folder name under outputDir (its runId, else its workflow id). */
    runId: SafeIdSchema,
    /** The run's outputDir, as the workers see it. */
    outputDir: z.string().min(1).default('runs'),
    /** Names the version's folder, `<outputDir>/<runId>/versions/<version>/`. */
    // `original` is what diff and export call the run's own rewards (ORIGINAL_VERSION).
    version: SafeIdSchema.refine((v) => v !== 'original', { message: '"original" names the run\'s own rewards: choose another version name' }),
    judge: JudgeConfigSchema,
    rewards: RewardConfigSchema.prefault({}),
    fallback: FallbackSchema,
    /** Reuse judgements of identical (judge, rubric, texts): the run's judge cache, in outputDir. */
    cache: z.boolean().default(true),
    /** Gold items judged with each step, as in a run: their verdicts land in the version's steps/. */
    canary: CanaryConfigSchema.optional(),
    /** Only these steps (inclusive); default every step the run checkpointed. */
    steps: StepRangeSchema.optional(),
    /**
     * Where the run's rollouts came from, when it read a trainer's directory (`arbiter run
     * rejudge` fills it in from the run's config). Staged input in the run's inbox needs nothing.
     */
    rollouts: RolloutSourceSchema.optional(),
    chunkSize: z.number().int().min(1).max(10_000).default(64),
    maxChunksPerStep: z.number().int().min(1).max(1000).default(256),
    maxChunksInFlight: z.number().int().min(1).max(200).default(8),
    scoring: ActivityPolicySchema,
    prices: z.record(z.string(), PriceSchema).default({}),
  })
  .strict();

export type RejudgeInput = z.input<typeof RejudgeInputSchema>;
export type RejudgeRequest = z.output<typeof RejudgeInputSchema>;

/**
 * The version scored as a run of its own: its folder is a run folder (`<versionsDir>/<version>`),
 * so the run's activities, policies and checkpoint write it exactly as they write a run. Parsing
 * it also applies a run config's cross-field checks to the re-judge's settings (same field names).
 */
export function versionRunConfig(request: RejudgeRequest, versionsDir: string): RunConfigInput {
  const { judge, rewards, fallback, cache, canary, chunkSize, maxChunksPerStep, maxChunksInFlight, scoring, prices } = request;
  return {
    runId: request.version,
    steps: 1,
    rollouts: { type: 'updates' },
    judge,
    rewards,
    fallback,
    cache,
    ...(canary && { canary }),
    chunkSize,
    maxChunksPerStep,
    maxChunksInFlight,
    scoring,
    prices,
    outputDir: versionsDir,
  };
}

/**
 * Validates a re-judge's input, and its settings as a run config would check them (field names
 * are the same), every bad field named in the error `fail` makes.
 */
export function parseRejudgeInput(input: unknown, fail: (issues: string[]) => Error): RejudgeRequest {
  const request = parseOrThrow(RejudgeInputSchema, input, fail);
  parseVersionConfig(request, request.outputDir, fail);
  return request;
}

/** The version's run config (see versionRunConfig), validated. */
export function parseVersionConfig(request: RejudgeRequest, versionsDir: string, fail: (issues: string[]) => Error): RunConfig {
  return parseOrThrow(RunConfigSchema, versionRunConfig(request, versionsDir), fail);
}
