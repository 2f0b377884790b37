import { z } from 'zod';
import { JudgeConfigSchema, PriceSchema } from '../config/judge-config';

// Pure (zod only): the workflow validates its input with this.

const NAME = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/** Limits a judge must meet; each one left out is not checked. */
export const ThresholdsSchema = z
  .object({
    /** Lowest Cohen's κ with the human pass/fail labels. */
    minKappa: z.number().min(-1).max(1).optional(),
    /** Highest per-criterion flip rate across repeats (the worst criterion counts). */
    maxFlipRate: z.number().min(0).max(1).optional(),
    /** Highest false-pass rate of any built-in attack. */
    maxAttackPass: z.number().min(0).max(1).optional(),
    /** Lowest Spearman ρ with the gold scores. */
    minSpearman: z.number().min(-1).max(1).optional(),
    /** Highest |mean offset| from the gold scores. */
    maxOffset: z.number().min(0).max(1).optional(),
    /** Highest first-position pick rate distance from 0.5 (preference mode). */
    maxPositionBias: z.number().min(0).max(0.5).optional(),
    /** Highest |Spearman ρ| between score and response length. */
    maxLengthCorrelation: z.number().min(0).max(1).optional(),
  })
  .strict();

export type Thresholds = z.output<typeof ThresholdsSchema>;

export const ValidationInputSchema = z
  .object({
    /** Names the output folder `<outputDir>/<validationId>`; the workflow id when absent. */
    validationId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/).optional(),
    /** The dataset JSONL, as the worker sees it. */
    dataset: z.string().min(1),
    outputDir: z.string().min(1).default('runs/validation'),
    judges: z
      .array(
        z
          .object({
            name: z.string().regex(NAME, 'a slug: lowercase letters, digits, "-" and "_"'),
            judge: JudgeConfigSchema,
            /** Judge criterion id → the labelled criterion it is compared with, where the rubric and the labelling guide name them differently. */
            criterionMap: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10)
      .superRefine((judges, ctx) => {
        const seen = new Set<string>();
        judges.forEach((j, i) => {
          if (seen.has(j.name)) ctx.addIssue({ code: 'custom', message: `duplicate judge name "${j.name}"`, path: [i, 'name'] });
          seen.add(j.name);
          // Said, not silently dropped: a validation's calls are paced by each worker process alone.
          if (j.judge.provider !== 'offline-heuristic' && j.judge.sharedQuota) {
            ctx.addIssue({
              code: 'custom',
              message: 'not used by judge validation, whose calls each worker process paces alone: remove it here (set quota.requestsPerMinute to what the account can spare)',
              path: [i, 'judge', 'sharedQuota'],
            });
          }
        });
      }),
    /** Times each item is judged, for self-consistency (the first pass serves every other metric). */
    repeats: z.number().int().min(1).max(20).default(3),
    /** A judge score at or above this counts as a pass. */
    passThreshold: z.number().min(0).max(1).default(0.5),
    /** Items per judging activity. */
    chunkSize: z.number().int().min(1).max(10_000).default(50),
    /** Judging activities in flight at once. */
    maxChunksInFlight: z.number().int().min(1).max(64).default(4),
    /** Items the built-in attacks are built from (each gives one response per attack). */
    attackItems: z.number().int().min(0).max(1000).default(20),
    /** Compare pairs, each in both orders, for the judges in preference mode when the dataset has pairs. */
    preference: z.boolean().default(true),
    bootstrap: z
      .object({ resamples: z.number().int().min(100).max(100_000).default(1000), confidence: z.number().gt(0).lt(1).default(0.95), seed: z.number().int().default(1) })
      .strict()
      .prefault({}),
    thresholds: ThresholdsSchema.prefault({}),
    /** Per-model prices (USD per million tokens), keyed by model id, as in a run config: for the cost line of each judge. */
    prices: z.record(z.string(), PriceSchema).default({}),
  })
  .strict();

export type ValidationInput = z.input<typeof ValidationInputSchema>;
export type ValidationConfig = z.output<typeof ValidationInputSchema>;
export type NamedJudge = ValidationConfig['judges'][number];
