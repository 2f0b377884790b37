import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReviewItemRef } from '../../src/review/review-item';
import { progressQuery } from '../../workflows/definitions';
import { submitReviewUpdate } from '../../workflows/review-answer';
import { rftRun } from '../../workflows/rft-run';
import { reviewBatchSignal, runEndedSignal, runReview, runReviewQuery, type ReviewBatch } from '../../workflows/run-review';
import { chainHistoryLengths } from '../support/run-chain';
import { maybeRecordHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { tempDir, writeSteps } from '../support/fixtures';

function batch(step: number, deadlineHours = 1): ReviewBatch {
  const items: ReviewItemRef[] = [1, 2].map((n) => ({
    itemId: `s${step}-${n}`,
    step,
    rolloutId: `r${step}-${n}`,
    why: 'sampled',
    reward: 0.8,
    judgeScore: 0.8,
    judgePass: true,
    criteria: [{ id: 'cites_clause', pass: true }],
  }));
  return { step, items, file: undefined, deadlineHours };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
  );

describe('runReview: one review workflow per run', () => {
  it('holds steps with their own deadlines, continues as new carrying only open steps, and ends after the run', async () => {
    await withWorker(async ({ client, taskQueue }) => {
      // The run is gone: answers still count here, and the run's absence is only logged.
      const parentWorkflowId = `gone-run-${Date.now()}`;
      const review = await client.workflow.start(runReview, {
        taskQueue,
        workflowId: `${parentWorkflowId}-review`,
        args: [{ parentWorkflowId, runId: 'gone-run', batches: [batch(1)], batchesPerExecution: 3 }],
      });
      // Step 2 expires within seconds; step 1 and 3 do not.
      await review.signal(reviewBatchSignal, batch(2, 1 / 3600));
      await review.signal(reviewBatchSignal, batch(1)); // sent again: ignored
      const expired = await waitFor(() => review.query(runReviewQuery), (s) => s.steps.some((x) => x.step === 2 && x.status === 'expired'));
      expect(expired.counts).toMatchObject({ steps: 2, items: 4, expired: 2 });
      expect(await rejection(review.executeUpdate(submitReviewUpdate, { args: [{ itemId: 's2-1', verdict: 'pass' }] }))).toMatch(
        /the review of step 2 is expired/,
      );
      // Per-criterion answers are checked against the item's criteria.
      expect(
        await rejection(review.executeUpdate(submitReviewUpdate, { args: [{ itemId: 's1-1', verdict: 'fail', criteria: [{ id: 'made_up', pass: false }] }] })),
      ).toMatch(/item s1-1 has no criterion "made_up" \(criteria: cites_clause\)/);

      // A third step received: the next execution carries the open steps and the counts, not step 2.
      await review.signal(reviewBatchSignal, batch(3));
      await waitFor(async () => (await chainHistoryLengths(client, review.workflowId, review.firstExecutionRunId)).length, (n) => n >= 2);
      const carried = await review.query(runReviewQuery);
      expect(carried.steps.map((s) => [s.step, s.status])).toEqual([[1, 'open'], [3, 'open']]);
      expect(carried.counts).toMatchObject({ steps: 3, items: 6, expired: 2, answered: 0 });
      expect(await review.executeUpdate(submitReviewUpdate, { args: [{ itemId: 's1-1', verdict: 'fail', criteria: [{ id: 'cites_clause', pass: false }] }] })).toEqual({
        open: 3,
        agreesWithJudge: false,
      });
      await review.signal(runEndedSignal);
      for (const itemId of ['s1-2', 's3-1', 's3-2']) {
        await review.executeUpdate(submitReviewUpdate, { args: [{ itemId, score: 0.9 }] });
      }
      // Nothing open and the run has ended: the review workflow ends.
      const final = await review.result();
      expect(final).toMatchObject({ open: 0, runEnded: true, counts: { steps: 3, items: 6, answered: 4, expired: 2 } });
      await maybeRecordHistory('run-review-continued-as-new', review.workflowId, review.firstExecutionRunId);
    });
  }, 120_000);

  it('a run whose review workflow has ended (nothing open for a deadline) starts it again for its next reviewed step', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 1, 4);
    const workflowId = `review-restart-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const run = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        // Deadlines of 3.6 s (the least allowed): step 1's items expire, then the idle queue ends.
        args: [{ steps: 2, rollouts: { type: 'directory', path: join(dir, 'rollouts') }, outputDir: join(dir, 'out'), review: { everySteps: 1, samples: 2, deadlineHours: 0.001 } }],
      });
      const review = client.workflow.getHandle(`${workflowId}-review`);
      const first = await waitFor(() => review.describe().then((d) => d.status.name, () => 'NONE'), (s) => s === 'COMPLETED', 30_000);
      expect(first).toBe('COMPLETED');
      expect(await review.result()).toMatchObject({ runEnded: false, counts: { steps: 1, expired: 2 } });

      await writeSteps(join(dir, 'rollouts'), 1, 4, 2);
      expect(await run.result()).toMatchObject({ status: 'completed', stepsDone: 2 });
      // Started again under the same id, with step 2 only; still one id in the run's progress.
      const again = await client.workflow.getHandle(`${workflowId}-review`).query(runReviewQuery);
      expect(again.steps.map((s) => s.step)).toEqual([2]);
      expect((await run.query(progressQuery)).openReviews).toEqual([`${workflowId}-review`]);
      await maybeRecordHistory('run-review-restarted-by-its-run', workflowId);
      await client.workflow.getHandle(`${workflowId}-review`).terminate('test over');
    });
  }, 120_000);
});
