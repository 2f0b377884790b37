import { z } from 'zod';
import { MessageSchema, trajectoryProblem, trajectoryText } from './trajectory';

/**
 * One sample produced by the policy for a training step: a prompt and a response, or a
 * multi-turn trajectory as `messages` (OpenAI chat format, the last message the assistant's
 * final answer). A trajectory is read as a prompt (the turns before the answer, as a transcript)
 * and a response (the answer), which every later stage uses; `messages` stays on the rollout.
 */
export const RolloutSchema = z
  .object({
    id: z.string().min(1).max(512),
    prompt: z.string().optional(),
    response: z.string().optional(),
    messages: z.array(MessageSchema).optional(),
    reference: z.string().optional(),
    group: z.string().optional(),
  })
  // One pass checks which form was given and reads a trajectory's text (once) for what follows.
  .transform((r, ctx) => {
    if (r.messages === undefined) {
      for (const field of ['prompt', 'response'] as const) {
        if (r[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} is required (or give the trajectory as messages)` });
      }
      return r as typeof r & { prompt: string; response: string };
    }
    const problem = trajectoryProblem(r.messages);
    if (problem) {
      ctx.addIssue({ code: 'custom', path: ['messages'], message: problem });
      return z.NEVER;
    }
    // A copy Arbiter wrote carries the text it read from the messages; anything else is ambiguous.
    const text = trajectoryText(r.messages);
    for (const field of ['prompt', 'response'] as const) {
      if (r[field] !== undefined && r[field] !== text[field]) {
        ctx.addIssue({ code: 'custom', path: [field], message: `give either messages or ${field}, not both: the ${field} is read from the messages` });
      }
    }
    return { ...r, ...text };
  });
export type Rollout = z.infer<typeof RolloutSchema>;

/** A rollout as written back to a file: a trajectory as its messages alone (its text is read from them again), so a line is no larger than the trainer's. */
export function storedRollout(rollout: Rollout): Record<string, unknown> {
  if (rollout.messages === undefined) return rollout;
  const { prompt: _prompt, response: _response, ...stored } = rollout;
  return stored;
}
