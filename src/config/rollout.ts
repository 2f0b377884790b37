import { z } from 'zod';

/** One sample produced by the policy for a training step. */
export const RolloutSchema = z.object({
  id: z.string().min(1).max(512),
  prompt: z.string(),
  response: z.string(),
  reference: z.string().optional(),
  group: z.string().optional(),
});
export type Rollout = z.infer<typeof RolloutSchema>;
