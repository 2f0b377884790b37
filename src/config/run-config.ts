import { z } from 'zod';
import { ConfigError, describeZodIssues } from './validation-error';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const DirectorySourceSchema = z
  .object({
    type: z.literal('directory'),
    /** Directory the trainer writes `step-NNNNNN.jsonl` files into (relative paths: worker's cwd). */
    path: z.string().min(1),
  })
  .strict();

export const RolloutSourceSchema = z.discriminatedUnion('type', [DirectorySourceSchema]);

export const OfflineJudgeSchema = z
  .object({
    /** Deterministic text heuristics, NOT an LLM: for demos and tests without credentials. */
    provider: z.literal('offline-heuristic'),
  })
  .strict();

export const JudgeConfigSchema = z.discriminatedUnion('provider', [OfflineJudgeSchema]);

export const RunConfigSchema = z
  .object({
    /** Names the run's output folder; defaults to the workflow id. */
    runId: z
      .string()
      .regex(RUN_ID, 'letters, digits, ".", "_" and "-" only, at most 128, starting with a letter or digit')
      .optional(),
    /** Number of training steps to score. */
    steps: z.number().int().min(1).max(1_000_000),
    /** First step number (steps are numbered from 1 by default). */
    firstStep: z.number().int().min(0).default(1),
    rollouts: RolloutSourceSchema,
    judge: JudgeConfigSchema.default({ provider: 'offline-heuristic' }),
    /** Rollouts per scoring activity. */
    chunkSize: z.number().int().min(1).max(10_000).default(64),
    /** Scoring activities of one step running at once. */
    maxChunksInFlight: z.number().int().min(1).max(200).default(8),
    /** Root of the run artifacts: `<outputDir>/<runId>/steps/NNNNNN.rewards.jsonl`. */
    outputDir: z.string().min(1).default('runs'),
  })
  .strict();

export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;
export type JudgeConfig = z.output<typeof JudgeConfigSchema>;

/** Validates a run config, throwing a ConfigError whose lines name each bad field. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError('run config', describeZodIssues(result.error));
  return result.data;
}
