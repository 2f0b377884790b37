/**
 * Every per-step file name of the on-disk contract, without node:path, so workflow code can say
 * which file a step waits for. run-layout.ts joins them to their folders; nothing else spells them.
 */

/** A step's number in file names: six digits, so names sort in step order. */
export function stepNumber(step: number): string {
  return String(step).padStart(6, '0');
}

/** A directory source's step file (the trainer writes it) and the marker that says it is complete. */
export function stepRolloutName(step: number): string {
  return `step-${stepNumber(step)}.jsonl`;
}
export function stepReadyName(step: number): string {
  return `step-${stepNumber(step)}.ready`;
}

/** What a checkpoint leaves in `steps/`. */
export const stepResultName = {
  rewards: (step: number) => `${stepNumber(step)}.rewards.jsonl`,
  quarantine: (step: number) => `${stepNumber(step)}.quarantine.jsonl`,
  review: (step: number) => `${stepNumber(step)}.review.json`,
  canary: (step: number) => `${stepNumber(step)}.canary.jsonl`,
};

/** What the run stages in `inbox/`: inline submissions (whole, or under the update's tag) and assembled requests. */
export const stepInboxName = {
  submitted: (step: number, tag?: string) => `step-${stepNumber(step)}${tag === undefined ? '' : `.${tag}`}.jsonl`,
  requests: (step: number) => `step-${stepNumber(step)}.requests.jsonl`,
  /** Whether `name` is an inline submission of `step` staged by the run (whole, or under an update's tag). */
  isSubmitted: (step: number, name: string) =>
    name.startsWith(`step-${stepNumber(step)}.`) && name.endsWith('.jsonl') && name !== stepInboxName.requests(step),
};
