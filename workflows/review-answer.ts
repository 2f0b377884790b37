import { defineUpdate, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { reviewOutcomeSignal, type ReviewOutcome } from './definitions';
import type { ReviewItemRef } from '../src/review/review-item';

export interface ReviewAnswer {
  itemId: string;
  /** pass/fail, or a score in [0, 1] (≥ 0.5 counts as pass). */
  verdict?: 'pass' | 'fail';
  score?: number;
  note?: string;
  reviewer?: string;
  /** The reviewer's pass/fail on the judge's criteria (rubric mode), by criterion id. */
  criteria?: { id: string; pass: boolean }[];
}

export type AnsweredReview = ReviewAnswer & { humanPass: boolean };

export const submitReviewUpdate = defineUpdate<{ open: number; agreesWithJudge: boolean }, [ReviewAnswer]>('submitReview');

/** A person's overall verdict: a score of 0.5 or more counts as pass. */
export function humanPassOf(answer: ReviewAnswer): boolean {
  return answer.verdict ? answer.verdict === 'pass' : (answer.score ?? 0) >= 0.5;
}

/** The rules every answer must meet, whichever review workflow holds the item. */
export function checkAnswer(answer: ReviewAnswer, item: ReviewItemRef): void {
  const hasVerdict = answer.verdict !== undefined;
  const hasScore = answer.score !== undefined;
  if (hasVerdict === hasScore) throw new Error('give either verdict (pass|fail) or score (0..1)');
  if (hasVerdict && answer.verdict !== 'pass' && answer.verdict !== 'fail') throw new Error('verdict: pass or fail');
  if (hasScore && !(typeof answer.score === 'number' && answer.score >= 0 && answer.score <= 1)) {
    throw new Error('score: a number from 0 to 1');
  }
  if (answer.note !== undefined && (typeof answer.note !== 'string' || answer.note.length > 2000)) {
    throw new Error('note: text of at most 2000 characters');
  }
  if (answer.reviewer !== undefined && (typeof answer.reviewer !== 'string' || answer.reviewer.length > 200)) {
    throw new Error('reviewer: a name of at most 200 characters');
  }
  if (answer.criteria !== undefined) {
    if (!Array.isArray(answer.criteria)) throw new Error('criteria: a list of {id, pass}');
    const known = new Set((item.criteria ?? []).map((c) => c.id));
    const seen = new Set<string>();
    for (const [i, c] of answer.criteria.entries()) {
      if (typeof c !== 'object' || c === null || typeof c.id !== 'string' || typeof c.pass !== 'boolean') {
        throw new Error(`criteria[${i}]: {id: text, pass: true|false}`);
      }
      if (!known.has(c.id)) {
        throw new Error(`criteria[${i}]: item ${item.itemId} has no criterion ${JSON.stringify(c.id)}${known.size ? ` (criteria: ${[...known].join(', ')})` : ''}`);
      }
      if (seen.has(c.id)) throw new Error(`criteria[${i}]: ${c.id} is given twice`);
      seen.add(c.id);
    }
  }
}

/** Tells the run how a person answered, for its agreement figures. */
export async function tellRun(parentWorkflowId: string, outcome: ReviewOutcome): Promise<void> {
  try {
    await getExternalWorkflowHandle(parentWorkflowId).signal(reviewOutcomeSignal, outcome);
  } catch (err) {
    // The run may have finished; the answer still stands here.
    log.warn('could not tell the run about a review', { error: String(err) });
  }
}
