import { z } from 'zod';

// Pure (zod only): part of RunConfigSchema, which the workflow sandbox imports.

/**
 * Gold-labelled items mixed into every step's judging, to notice a judge that changed under
 * the run (a model silently updated, a quota downgrade to another model, a rubric edit that
 * broke something). The file is read by the worker; its lines are checked there (canary-set.ts).
 */
export const CanaryConfigSchema = z
  .object({
    /**
     * JSONL of gold items: `{id, prompt, response, reference?, label: {pass?, criteria?}}`
     * (relative paths: the worker's cwd; it must be in a folder the worker reads rollouts from).
     */
    file: z.string().min(1),
    /** Canary items judged in each step, chosen per step, as many passing as failing where the file allows. */
    perStep: z.number().int().min(1).max(1000).default(8),
    /** A step whose canary accuracy (judge pass vs gold pass) falls below this pauses the run. */
    floor: z.number().min(0).max(1).default(0.75),
    /**
     * The floor applies only to a step with at least this many canary verdicts (a judge failure
     * gives none); default the smaller of perStep and 4, since two items say little about a judge.
     */
    minItems: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.minItems !== undefined && c.minItems > c.perStep) {
      ctx.addIssue({
        code: 'custom',
        path: ['minItems'],
        message: `${c.minItems} is more than canary.perStep (${c.perStep}): no step would ever have enough canaries for the floor to apply`,
      });
    }
  });

export type CanaryConfig = z.output<typeof CanaryConfigSchema>;

/** How many canary verdicts a step needs before its accuracy is held against the floor. */
export function canaryMinItems(c: CanaryConfig): number {
  return c.minItems ?? Math.min(c.perStep, 4);
}
