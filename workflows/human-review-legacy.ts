/**
 * LEGACY: one review workflow per reviewed step (`humanReview`), as runs started before the
 * `one-review-workflow-per-run` patch (workflows/patches.ts) still start it. New runs send every
 * review to their one `runReview` workflow (run-review.ts). Kept so those runs, and their open
 * reviews, replay and can still be answered; the CLI and the review page read both kinds.
 */
import { allHandlersFinished, condition, defineQuery, setHandler } from '@temporalio/workflow';
import type { ReviewItemRef, ReviewItemTexts } from '../src/review/review-item';
import { checkAnswer, humanPassOf, submitReviewUpdate, tellRun, type AnsweredReview } from './review-answer';

export { submitReviewUpdate, type ReviewAnswer } from './review-answer';

export interface HumanReviewInput {
  parentWorkflowId: string;
  runId: string;
  step: number;
  /**
   * Ids and facts; the texts are in `file`. Reviews started before items went by reference
   * carry the texts here instead, and no file.
   */
  items: (ReviewItemRef & Partial<ReviewItemTexts>)[];
  file?: string;
  deadlineHours: number;
}

export interface ReviewState {
  runId: string;
  step: number;
  deadline: string;
  /** The step's `review.json` with the items' texts, as the workers' filesystem names it. */
  file: string | undefined;
  items: (ReviewItemRef & Partial<ReviewItemTexts> & { answer: AnsweredReview | undefined })[];
  open: number;
  status: 'open' | 'done' | 'expired';
}

export const reviewItemsQuery = defineQuery<ReviewState>('items');

/**
 * One step's review, as runs started them before one review workflow per run
 * (`one-review-workflow-per-run`): kept registered for reviews still open.
 * Holds a batch of review items until people answer them all or the deadline passes. Each
 * answer goes back to the run (a signal), which tracks judge-human agreement.
 */
export async function humanReview(input: HumanReviewInput): Promise<ReviewState> {
  const deadlineMs = Date.now() + input.deadlineHours * 3600_000;
  const state: ReviewState = {
    runId: input.runId,
    step: input.step,
    deadline: new Date(deadlineMs).toISOString(),
    file: input.file,
    items: input.items.map((item) => ({ ...item, answer: undefined })),
    open: input.items.length,
    status: 'open',
  };
  setHandler(reviewItemsQuery, () => state);
  setHandler(
    submitReviewUpdate,
    async (answer) => {
      const item = state.items.find((i) => i.itemId === answer.itemId)!;
      const humanPass = humanPassOf(answer);
      item.answer = { ...answer, humanPass };
      state.open--;
      await tellRun(input.parentWorkflowId, { step: input.step, itemId: item.itemId, judgePass: item.judgePass, humanPass });
      return { open: state.open, agreesWithJudge: humanPass === item.judgePass };
    },
    {
      validator: (answer) => {
        if (typeof answer !== 'object' || answer === null || typeof answer.itemId !== 'string') {
          throw new Error('itemId: required');
        }
        const item = state.items.find((i) => i.itemId === answer.itemId);
        if (!item) throw new Error(`no review item ${answer.itemId} (items: ${state.items.map((i) => i.itemId).join(', ')})`);
        if (item.answer) throw new Error(`item ${answer.itemId} was already reviewed`);
        if (state.status !== 'open') throw new Error(`this review is ${state.status}`);
        checkAnswer(answer, item);
      },
    },
  );

  const allAnswered = await condition(() => state.open === 0, Math.max(1, deadlineMs - Date.now()));
  state.status = allAnswered ? 'done' : 'expired';
  // The last answer's handler is still telling the run; let it finish so its caller gets a reply.
  await condition(allHandlersFinished);
  return state;
}
