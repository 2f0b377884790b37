import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReviewItemRef } from '../src/review/review-item';
import { checkAnswer, humanPassOf, submitReviewUpdate, tellRun, type AnsweredReview } from './review-answer';

/** One reviewed step's items, as the run sends them: ids and facts; the texts are in `file`. */
export interface ReviewBatch {
  step: number;
  items: ReviewItemRef[];
  /** The step's `review.json`, as the workers' filesystem names it. */
  file: string | undefined;
  deadlineHours: number;
}

export type ReviewedItem = ReviewItemRef & { answer: AnsweredReview | undefined };

export interface StepReview {
  step: number;
  deadline: string;
  file: string | undefined;
  status: 'open' | 'done' | 'expired';
  items: ReviewedItem[];
}

export interface ReviewCounts {
  /** Over the review's whole life, across continue-as-new. */
  steps: number;
  items: number;
  answered: number;
  expired: number;
}

export interface RunReviewState {
  kind: 'run-review';
  runId: string;
  parentWorkflowId: string;
  /** Unanswered items of steps still open. */
  open: number;
  /** Steps still open, and those closed since this execution started. */
  steps: StepReview[];
  counts: ReviewCounts;
  runEnded: boolean;
}

export interface RunReviewInput {
  parentWorkflowId: string;
  runId: string;
  /** Batches that came with the start. */
  batches: ReviewBatch[];
  /** Steps received before continuing as new (default 50); tests make it small. */
  batchesPerExecution?: number;
  /** From the execution before continue-as-new: open steps only, and the counts. */
  carried?: { steps: StepReview[]; counts: ReviewCounts; runEnded: boolean; idleHours: number };
}

/** The run sends each reviewed step's items here. */
export const reviewBatchSignal = defineSignal<[ReviewBatch]>('reviewBatch');
/** The run has finished: no more batches will come. */
export const runEndedSignal = defineSignal('runEnded');
export const runReviewQuery = defineQuery<RunReviewState>('items');

// Closed steps are kept for people to look back at until the history starts afresh.
const BATCHES_PER_EXECUTION = 50;

/** The review workflow of a run: one per run, whatever the number of reviewed steps. */
export function runReviewWorkflowId(runWorkflowId: string): string {
  return `${runWorkflowId}-review`;
}

/**
 * The review queue of one run. Each reviewed step's items arrive as a signal and wait, with
 * their own deadline, for people to answer them; each answer goes back to the run, which
 * tracks judge-human agreement. Ends when nothing is open and the run has ended (or sent nothing
 * for a deadline's length); continues as new as it grows, carrying only open steps and counts.
 */
export async function runReview(input: RunReviewInput): Promise<RunReviewState> {
  const state: RunReviewState = {
    kind: 'run-review',
    runId: input.runId,
    parentWorkflowId: input.parentWorkflowId,
    open: 0,
    steps: input.carried?.steps ?? [],
    counts: input.carried?.counts ?? { steps: 0, items: 0, answered: 0, expired: 0 },
    runEnded: input.carried?.runEnded ?? false,
  };
  let idleHours = input.carried?.idleHours ?? 0;
  let batchesHere = 0;
  let changes = 0;

  const receive = (batch: ReviewBatch): void => {
    // The run sends a step once; a repeat (a retried send) changes nothing.
    if (state.steps.some((s) => s.step === batch.step) || batch.items.length === 0) return;
    state.steps.push({
      step: batch.step,
      deadline: new Date(Date.now() + batch.deadlineHours * 3600_000).toISOString(),
      file: batch.file,
      status: 'open',
      items: batch.items.map((item) => ({ ...item, answer: undefined })),
    });
    state.steps.sort((a, b) => a.step - b.step);
    state.counts.steps++;
    state.counts.items += batch.items.length;
    idleHours = Math.max(idleHours, batch.deadlineHours);
    batchesHere++;
    changes++;
    recount(state);
  };
  for (const batch of input.batches) receive(batch);
  recount(state);

  setHandler(runReviewQuery, () => state);
  setHandler(reviewBatchSignal, receive);
  setHandler(runEndedSignal, () => {
    state.runEnded = true;
    changes++;
  });
  setHandler(
    submitReviewUpdate,
    async (answer) => {
      const { step, item } = find(state, answer.itemId)!;
      const humanPass = humanPassOf(answer);
      item.answer = { ...answer, humanPass };
      state.counts.answered++;
      if (step.items.every((i) => i.answer)) step.status = 'done';
      recount(state);
      changes++;
      await tellRun(input.parentWorkflowId, { step: step.step, itemId: item.itemId, judgePass: item.judgePass, humanPass });
      return { open: state.open, agreesWithJudge: humanPass === item.judgePass };
    },
    {
      validator: (answer) => {
        if (typeof answer !== 'object' || answer === null || typeof answer.itemId !== 'string') {
          throw new Error('itemId: required');
        }
        const found = find(state, answer.itemId);
        if (!found) {
          const open = state.steps.flatMap((s) => (s.status === 'open' ? s.items.filter((i) => !i.answer).map((i) => i.itemId) : []));
          throw new Error(`no review item ${answer.itemId} (open items: ${open.join(', ') || 'none'})`);
        }
        if (found.item.answer) throw new Error(`item ${answer.itemId} was already reviewed`);
        if (found.step.status !== 'open') throw new Error(`the review of step ${found.step.step} is ${found.step.status}`);
        checkAnswer(answer, found.item);
      },
    },
  );

  for (;;) {
    describe(state);
    const openSteps = state.steps.filter((s) => s.status === 'open');
    if (openSteps.length === 0 && state.runEnded) break;
    if (batchesHere >= (input.batchesPerExecution ?? BATCHES_PER_EXECUTION) || workflowInfo().continueAsNewSuggested) {
      // An answer being sent on to the run finishes here, so its reviewer gets a reply.
      await condition(allHandlersFinished);
      const stillOpen = state.steps.filter((s) => s.status === 'open');
      await continueAsNew<typeof runReview>({
        parentWorkflowId: input.parentWorkflowId,
        runId: input.runId,
        batches: [],
        batchesPerExecution: input.batchesPerExecution,
        carried: { steps: stillOpen, counts: state.counts, runEnded: state.runEnded, idleHours },
      });
    }
    const seen = changes;
    // With nothing open, wait a deadline's length for the run's next batch, then end: a run that
    // vanished without saying so must not leave its review queue open for ever.
    const wakeAt = openSteps.length > 0 ? Math.min(...openSteps.map((s) => Date.parse(s.deadline))) : Date.now() + idleHours * 3600_000;
    const changed = await condition(() => changes !== seen, Math.max(1, wakeAt - Date.now()));
    if (!changed && openSteps.length === 0) break;
    expireOverdue(state);
  }
  await condition(allHandlersFinished);
  describe(state);
  return state;
}

function find(state: RunReviewState, itemId: string): { step: StepReview; item: ReviewedItem } | undefined {
  for (const step of state.steps) {
    const item = step.items.find((i) => i.itemId === itemId);
    if (item) return { step, item };
  }
  return undefined;
}

function expireOverdue(state: RunReviewState): void {
  for (const step of state.steps) {
    if (step.status === 'open' && Date.parse(step.deadline) <= Date.now()) {
      step.status = 'expired';
      state.counts.expired += step.items.filter((i) => !i.answer).length;
    }
  }
  recount(state);
}

function recount(state: RunReviewState): void {
  state.open = state.steps.reduce((n, s) => n + (s.status === 'open' ? s.items.filter((i) => !i.answer).length : 0), 0);
}

/** The Web UI's current details: the queue at a glance. */
function describe(state: RunReviewState): void {
  const open = state.steps.filter((s) => s.status === 'open');
  const c = state.counts;
  setCurrentDetails(
    `**review of ${state.runId}**: ${state.open} item${state.open === 1 ? '' : 's'} open` +
      (open.length > 0 ? ` (steps ${open.map((s) => s.step).join(', ')}; next deadline ${open.map((s) => s.deadline).sort()[0]})` : '') +
      `\n\n${c.answered} answered, ${c.expired} expired, of ${c.items} items from ${c.steps} steps` +
      (state.runEnded ? '; the run has ended' : ''),
  );
}
