import { z } from 'zod';

// Pure (zod only): the workflow sandbox imports this to validate run configs.

const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

export const CriterionSchema = z
  .object({
    /** Stable name the judge must echo back; also the key in reports. */
    id: z.string().max(64).regex(SLUG, 'lowercase letters, digits, "-" and "_" only (a slug, e.g. "cites_sources")'),
    /** What passing means, written for the judge model. */
    description: z.string().trim().min(1).max(2000),
    weight: z.number().positive().finite().default(1),
    /** A failed veto criterion caps the whole score at `vetoCap`, whatever else passed. */
    veto: z.boolean().default(false),
  })
  .strict();

export const RubricSchema = z
  .object({
    criteria: z
      .array(CriterionSchema)
      .min(1)
      .max(50)
      .superRefine((criteria, ctx) => {
        const seen = new Set<string>();
        criteria.forEach((criterion, index) => {
          if (seen.has(criterion.id)) {
            ctx.addIssue({
              code: 'custom',
              message: `duplicate criterion id "${criterion.id}"`,
              path: [index, 'id'],
            });
          }
          seen.add(criterion.id);
        });
      }),
    /** Context for the judge on what good looks like; not scored on their own. */
    desiredBehaviours: z.array(z.string().trim().min(1).max(2000)).max(50).optional(),
    /** Highest score a response can get when any veto criterion fails. */
    vetoCap: z.number().min(0).max(1).default(0),
  })
  .strict();

export type Criterion = z.output<typeof CriterionSchema>;
export type RubricInput = z.input<typeof RubricSchema>;
export type Rubric = z.output<typeof RubricSchema>;
