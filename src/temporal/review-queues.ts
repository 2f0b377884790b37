import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { ReviewState } from '../../workflows/human-review-legacy';
import { runReviewQuery, runReviewWorkflowId, type RunReviewState } from '../../workflows/run-review';
import type { AnsweredReview } from '../../workflows/review-answer';
import { isUnreachable, rootMessage } from './client-errors';
import type { ReviewItemRef, ReviewItemTexts } from '../review/review-item';
import { withReviewTexts } from '../review/review-texts';

export type QueueItem = ReviewItemRef & Partial<ReviewItemTexts> & { answer: AnsweredReview | undefined };

/** One reviewed step, in either kind of review workflow. */
export interface QueueStep {
  step: number;
  deadline: string;
  file: string | undefined;
  status: 'open' | 'done' | 'expired';
  items: QueueItem[];
}

/**
 * A review workflow as people see it: a run's review queue (`runReview`, one per run) or, for
 * reviews started before that, one step's review (`humanReview`).
 */
export interface ReviewQueue {
  workflowId: string;
  runId: string;
  /** Unanswered items of open steps. */
  open: number;
  steps: QueueStep[];
}

export const REVIEW_WORKFLOW_TYPES = ['runReview', 'humanReview'] as const;
const OPEN_REVIEWS = `WorkflowType IN (${REVIEW_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')}) AND ExecutionStatus = 'Running'`;

/** Both workflows answer the `items` query; their answers differ in shape. */
export function queueOf(workflowId: string, state: ReviewState | RunReviewState): ReviewQueue {
  if ('kind' in state && state.kind === 'run-review') {
    return { workflowId, runId: state.runId, open: state.open, steps: state.steps };
  }
  const s = state as ReviewState;
  return {
    workflowId,
    runId: s.runId,
    open: s.open,
    steps: [{ step: s.step, deadline: s.deadline, file: s.file, status: s.status, items: s.items }],
  };
}

/** Asks one review workflow for its items. */
export async function readQueue(client: Client, workflowId: string): Promise<ReviewQueue> {
  // Both workflows answer the query named `items` (runReviewQuery, reviewItemsQuery).
  const state = await client.workflow.getHandle(workflowId).query<ReviewState | RunReviewState>(runReviewQuery.name);
  return queueOf(workflowId, state);
}

/** True for the review workflows of the run with this workflow id: its queue, or its per-step reviews of old. */
export function belongsToRun(reviewWorkflowId: string, runWorkflowId: string): boolean {
  const queue = runReviewWorkflowId(runWorkflowId);
  return reviewWorkflowId === queue || (reviewWorkflowId.startsWith(`${queue}-`) && /^\d+$/.test(reviewWorkflowId.slice(queue.length + 1)));
}

/** Ids of the open review workflows (all runs, or one run's), as visibility lists them: eventually consistent. */
export async function openReviewIds(client: Client, run?: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: OPEN_REVIEWS })) {
    if (run === undefined || belongsToRun(wf.workflowId, run)) ids.push(wf.workflowId);
  }
  return ids.sort();
}

/** The open steps' unanswered items of a queue, with their texts from the steps' review files. */
export async function openItemsWithTexts(queue: ReviewQueue): Promise<{ step: QueueStep; items: QueueItem[]; missing: string | undefined }[]> {
  const out = [];
  for (const step of queue.steps) {
    if (step.status !== 'open') continue;
    const open = step.items.filter((i) => !i.answer);
    if (open.length === 0) continue;
    const { items, missing } = await withReviewTexts(open, step.file);
    out.push({ step, items, missing });
  }
  return out;
}

/**
 * Each review's items, or why they cannot be shown now (closed since it was listed, or no worker
 * answering), asked side by side, each within `waitMs`: a review whose run's workers are gone
 * answers no query, and must not hold up every other run's.
 */
export async function readQueuesWithin(client: Client, workflowIds: string[], waitMs: number): Promise<(ReviewQueue | { message: string })[]> {
  const read = pLimit(8);
  return Promise.all(workflowIds.map((id) => read(() => readQueueWithin(client, id, waitMs))));
}

async function readQueueWithin(client: Client, workflowId: string, waitMs: number): Promise<ReviewQueue | { message: string }> {
  const deadline = Date.now() + waitMs;
  try {
    return await client.connection.withDeadline(deadline, () => readQueue(client, workflowId));
  } catch (err) {
    if (Date.now() >= deadline) {
      return { message: `no worker answered within ${waitMs / 1000} s: is a worker polling this run's task queue?` };
    }
    if (isUnreachable(err)) throw err;
    return { message: rootMessage(err) };
  }
}
