import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { NativeConnection } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { startDevServer } from '../../src/temporal/dev-server/start-dev-server';
import { createArbiterWorker } from '../../src/worker/create-worker';
import { progressQuery, resumeUpdate } from '../../workflows/definitions';
import { submitReviewUpdate } from '../../workflows/review-answer';
import { runReviewQuery } from '../../workflows/run-review';
import { tempDir, writeSteps } from '../support/fixtures';
import { maybeRecordHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { chainHistoryLengths } from '../support/run-chain';
import { waitFor } from '../helpers/wait-for';
import { testWorkerSettings } from '../helpers/worker-settings';
import { rftRun } from '../../workflows/rft-run';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

describe('human review', () => {
  it("sends samples to the run's review workflow every K steps and tracks judge-human agreement", async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 2, 6);
    const workflowId = `review-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{
          steps: 3,
          rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
          outputDir: join(dir, 'out'),
          review: { everySteps: 2, samples: 3, agreementFloor: 0.75, minReviews: 2 },
        }],
      });
      // Step 3's file is not there yet: the run waits, so it can hear the reviews.
      await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 2);
      const progress = await handle.query(progressQuery);
      expect(progress.openReviews).toEqual([`${workflowId}-review`]);

      const review = client.workflow.getHandle(`${workflowId}-review`);
      const { steps } = await review.query(runReviewQuery);
      expect(steps.map((s) => [s.step, s.status])).toEqual([[2, 'open']]);
      const { items, file } = steps[0]!;
      expect(items).toHaveLength(3);
      expect(items.every((i) => i.step === 2 && i.why === 'sampled' && !('response' in i))).toBe(true);
      // The texts are in the step's review file, not in the workflow.
      const stored = JSON.parse(await readFile(file!, 'utf8')) as { itemId: string; response: string }[];
      expect(stored.map((s) => s.itemId)).toEqual(items.map((i) => i.itemId));
      expect(stored.every((s) => s.response.length > 0)).toBe(true);

      const [first, second, third] = items;
      const agree = await review.executeUpdate(submitReviewUpdate, { args: [{ itemId: first!.itemId, verdict: first!.judgePass ? 'pass' : 'fail' }] });
      expect(agree).toEqual({ open: 2, agreesWithJudge: true });
      const disagree = await review.executeUpdate(submitReviewUpdate, { args: [{ itemId: second!.itemId, score: second!.judgePass ? 0 : 1, note: 'wrong' }] });
      expect(disagree).toEqual({ open: 1, agreesWithJudge: false });

      const rejected = (args: unknown) =>
        review.executeUpdate(submitReviewUpdate, { args: [args as never] }).then(
          () => 'accepted',
          (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
        );
      expect(await rejected({ itemId: first!.itemId, verdict: 'pass' })).toMatch(/already reviewed/);
      expect(await rejected({ itemId: 'nope', verdict: 'pass' })).toMatch(/no review item nope/);
      expect(await rejected({ itemId: third!.itemId, verdict: 'maybe' })).toMatch(/verdict/);

      const withAgreement = await waitFor(() => handle.query(progressQuery), (p) => p.agreement.reviews === 2);
      expect(withAgreement.agreement).toMatchObject({ reviews: 2, agree: 1, accuracy: 0.5 });
      // Half the reviews disagree with the judge: below the floor of 75 %, the run pauses.
      expect(withAgreement.status).toBe('paused');
      expect(withAgreement.reason).toMatch(/agreement 50\.0% fell below the floor 75\.0%/);

      await writeSteps(join(dir, 'rollouts'), 1, 2, 3);
      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'judge checked' }] });
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 3 });
      // The run has ended: its review workflow ends once the last item is answered.
      expect(await review.executeUpdate(submitReviewUpdate, { args: [{ itemId: third!.itemId, verdict: 'pass' }] })).toMatchObject({ open: 0 });
      expect(await review.result()).toMatchObject({ runEnded: true, open: 0, counts: { steps: 1, items: 3, answered: 3, expired: 0 } });
    });
    await maybeRecordHistory('one-review-workflow-per-run', workflowId);
    await maybeRecordHistory('run-review-queue-answered', `${workflowId}-review`);
  });
});

describe('continue-as-new', () => {
  it('every N steps: same totals as one long history', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 5, 3);
    const base = { steps: 5, rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') }, chunkSize: 2 };
    await withWorker(async ({ client, taskQueue }) => {
      const oneHistory = await client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `long-${Date.now()}`,
        args: [{ ...base, outputDir: join(dir, 'a') }],
      });
      const workflowId = `chained-${Date.now()}`;
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ ...base, outputDir: join(dir, 'b'), continueAsNewEverySteps: 2 }],
      });
      const chained = await handle.result();
      // The first execution: the one that continues as new.
      await maybeRecordHistory('continued-as-new-every-2-steps', workflowId, handle.firstExecutionRunId);
      expect(chained.totals).toEqual(oneHistory.totals);
      expect(chained.stepsDone).toBe(5);
      expect(await chainHistoryLengths(client, workflowId, handle.firstExecutionRunId)).toHaveLength(3);
    });
  });

  it('when the server suggests it (low limit.historyCount.suggestContinueAsNew)', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 4, 4);
    const server = await startDevServer({ dynamicConfig: ['limit.historyCount.suggestContinueAsNew=15'] });
    const connection = await connectSafely({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    try {
      const worker = await createArbiterWorker({ connection: nativeConnection, taskQueue: 'suggested', workflowBundle: { codePath: inject('workflowBundlePath') }, settings: testWorkerSettings() });
      const client = new Client({ connection, dataConverter: arbiterDataConverter });
      const workflowId = `suggested-${Date.now()}`;
      const handle = await client.workflow.start(rftRun, {
        taskQueue: 'suggested',
        workflowId,
        args: [{ steps: 4, rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') }, outputDir: join(dir, 'out'), chunkSize: 2 }],
      });
      const result = await worker.runUntil(handle.result());
      expect(result).toMatchObject({ status: 'completed', stepsDone: 4 });
      expect(result.totals.rollouts).toBe(16);
      const lengths = await chainHistoryLengths(client, workflowId, handle.firstExecutionRunId);
      expect(lengths.length, `history lengths ${lengths.join(', ')}`).toBeGreaterThanOrEqual(3);
    } finally {
      await connection.close();
      await nativeConnection.close();
      await server.stop();
    }
  });
});
