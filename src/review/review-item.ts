/**
 * What travels through workflow history for a sample sent to review: ids and facts, no rollout
 * text. The text stays on disk in the step's `NNNNNN.review.json`, read by whoever shows it.
 */
export interface ReviewItemRef {
  itemId: string;
  step: number;
  rolloutId: string;
  why: 'sampled' | 'inconsistent' | 'low-confidence';
  reward: number;
  /** The judge's own score, before other components; absent after a judge failure. */
  judgeScore: number | undefined;
  judgePass: boolean;
}

/** Excerpts a reviewer reads: enough to judge the response, bounded in size. */
export interface ReviewItemTexts {
  prompt: string;
  response: string;
  reference: string | undefined;
  rationale: string;
}

/** A review item as written to `steps/NNNNNN.review.json`. */
export type ReviewItem = ReviewItemRef & ReviewItemTexts;

export const EXCERPT_CHARS = { prompt: 1500, response: 3000, reference: 1500, rationale: 600 };

export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** The history-safe part of an item. */
export function reviewItemRef(item: ReviewItemRef): ReviewItemRef {
  const { itemId, step, rolloutId, why, reward, judgeScore, judgePass } = item;
  return { itemId, step, rolloutId, why, reward, judgeScore, judgePass };
}
