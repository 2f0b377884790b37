import type { ReviewTurn } from './review-turns';

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
  /**
   * Rubric mode: the judge's pass/fail per criterion. Criterion ids come from the run's rubric,
   * not from the rollout, so they may travel through history; the evidence stays in the file.
   */
  criteria?: { id: string; pass: boolean }[];
}

/** Excerpts a reviewer reads: enough to judge the response, bounded in size. */
export interface ReviewItemTexts {
  /** A trajectory's prompt is its turns as one transcript; `turns` has them one by one. */
  prompt: string;
  response: string;
  reference: string | undefined;
  rationale: string;
  /** The judge's evidence per criterion id (it quotes the response, so it is rollout text). */
  evidence?: Record<string, string>;
  /** A multi-turn trajectory: the turns before the final answer (the response), for the page to show as a conversation. */
  turns?: ReviewTurn[];
}

/** A review item as written to `steps/NNNNNN.review.json`. */
export type ReviewItem = ReviewItemRef & ReviewItemTexts;

export const EXCERPT_CHARS = { prompt: 1500, response: 3000, reference: 1500, rationale: 600, evidence: 400 };

export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** The history-safe part of an item. */
export function reviewItemRef(item: ReviewItemRef): ReviewItemRef {
  const { itemId, step, rolloutId, why, reward, judgeScore, judgePass, criteria } = item;
  const ref: ReviewItemRef = { itemId, step, rolloutId, why, reward, judgeScore, judgePass };
  // Only the ids and verdicts: an item read back from a file may carry more.
  if (criteria) ref.criteria = criteria.map(({ id, pass }) => ({ id, pass }));
  return ref;
}
