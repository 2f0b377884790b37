/**
 * A sample sent to people for review. It carries excerpts, not whole batches: enough to judge
 * the response, small enough for workflow history.
 */
export interface ReviewItem {
  itemId: string;
  step: number;
  rolloutId: string;
  why: 'sampled' | 'inconsistent' | 'low-confidence';
  prompt: string;
  response: string;
  reference: string | undefined;
  reward: number;
  /** The judge's own score, before other components; absent after a judge failure. */
  judgeScore: number | undefined;
  judgePass: boolean;
  rationale: string;
}

export const EXCERPT_CHARS = { prompt: 1500, response: 3000, reference: 1500, rationale: 600 };

export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}
