/**
 * The names of a directory source's step files, without node:path, so workflow code can say
 * which file a step waits for. run-layout.ts joins them to the folder.
 */
export function stepRolloutName(step: number): string {
  return `step-${String(step).padStart(6, '0')}.jsonl`;
}

export function stepReadyName(step: number): string {
  return `step-${String(step).padStart(6, '0')}.ready`;
}
