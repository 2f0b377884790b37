import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { cancelUpdate, pauseUpdate, progressQuery, reconfigureUpdate, resumeUpdate } from '../../workflows/definitions';
import { bedrockErrors } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { markReady, rollout, tempDir, writeSteps } from '../support/fixtures';
import { maybeRecordHistory } from '../helpers/histories';
import { readManifestLines } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { rftRun } from '../../workflows/rft-run';

const rubric = { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky' }] };

const fake = fakeBedrockPerFile({ seed: 5, respond: markerJudge('leaving no continuity') });

async function rejection(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const e = err as WorkflowUpdateFailedError;
  return `${e.message} ${e.cause?.message ?? ''}`;
}

async function writeStep(dir: string, step: number, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify(rollout(`s${step}-r${i}`, { response: `High risk: no notice, leaving no continuity [${step}-${i}]` })));
  await writeFile(stepRolloutFile(dir, step), lines.join('\n') + '\n');
  await markReady(dir, step);
}

describe('run controls', () => {
  it('pause holds the next step, resume goes on, reconfigure applies, bad requests are rejected', async () => {
    const dir = await tempDir();
    await writeStep(dir, 1, 4);
    const workflowId = `controls-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 3, rollouts: { type: 'directory', path: dir }, outputDir: join(dir, 'out'), chunkSize: 4 }],
      });
      await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 1);

      expect(await rejection(handle.executeUpdate(resumeUpdate, { args: [{}] }))).toMatch(/not paused/);
      expect(await rejection(handle.executeUpdate(reconfigureUpdate, { args: [{ chunkSize: 0 }] }))).toMatch(/chunkSize/);
      expect(await rejection(handle.executeUpdate(reconfigureUpdate, { args: [{}] }))).toMatch(/nothing to change/);
      expect(await rejection(handle.executeUpdate(cancelUpdate, { args: [{ mode: 'later' as never }] }))).toMatch(/mode/);

      const reconfigured = await handle.executeUpdate(reconfigureUpdate, { args: [{ chunkSize: 2 }] });
      expect(reconfigured).toEqual({ status: 'running', message: 'reconfigured from step 3' });
      const paused = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'looking at step 1' }] });
      expect(paused).toMatchObject({ status: 'paused', message: 'paused: looking at step 1' });
      expect(await rejection(handle.executeUpdate(pauseUpdate, { args: [{}] }))).toMatch(/already paused/);

      // The step already waiting for its file finishes; the one after it waits for resume.
      await writeStep(dir, 2, 4);
      await writeStep(dir, 3, 4);
      await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 2);
      // What is tested is that nothing happens: a paused run holds step 3 for as long as we look.
      await new Promise((r) => setTimeout(r, 1500));
      const held = await handle.query(progressQuery);
      expect(held).toMatchObject({ stepsDone: 2, status: 'paused', reason: 'looking at step 1' });

      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'all good' }] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: 3 });
      // The step in progress (2, waiting for its file) keeps its config; step 3 is cut in chunks of 2.
      const history = await handle.fetchHistory();
      const chunkActivities = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreChunk');
      expect(chunkActivities).toHaveLength(1 + 1 + 2);
    });
    await maybeRecordHistory('paused-reconfigured-resumed', workflowId);
    const lines = await readManifestLines(join(dir, 'out', workflowId));
    expect(lines.map((l) => l.step ?? l.end.status)).toEqual([1, 2, 3, 'completed']);
    expect(lines[2].summary.count).toBe(4);
  });

  it('cancel with abandon-step ends the run now and writes a closing manifest line', async () => {
    const dir = await tempDir();
    const workflowId = `abandon-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 2, rollouts: { type: 'directory', path: dir }, outputDir: join(dir, 'out') }],
      });
      await waitFor(() => handle.query(progressQuery), (p) => p.currentStep === 1);
      const reply = await handle.executeUpdate(cancelUpdate, { args: [{ mode: 'abandon-step', reason: 'trainer crashed' }] });
      expect(reply.message).toMatch(/cancelling now/);
      expect(await handle.result()).toMatchObject({ status: 'cancelled', stepsDone: 0 });
    });
    const lines = await readManifestLines(join(dir, 'out', workflowId));
    expect(lines.at(-1)).toMatchObject({ end: { status: 'cancelled', reason: 'trainer crashed', stepsDone: 0 } });
  });

  it('cancel (finish-step) while the step still waits for its rollouts ends the run now', async () => {
    const dir = await tempDir();
    await writeStep(dir, 1, 2);
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `cancel-waiting-${Date.now()}`,
        args: [{ steps: 3, rollouts: { type: 'directory', path: dir }, outputDir: join(dir, 'out') }],
      });
      await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 1 && p.currentStep === 2);
      const reply = await handle.executeUpdate(cancelUpdate, { args: [{}] });
      expect(reply.message).toBe('cancelling now');
      expect(await handle.result()).toMatchObject({ status: 'cancelled', stepsDone: 1 });
    });
  });

  it('the fallback guard pauses a run whose judge keeps failing; resume with another judge goes on', async () => {
    const dir = await tempDir();
    await writeSteps(dir, 2, 4);
    fake.reset();
    fake.setOptions({ faults: () => ({ ...bedrockErrors.internal, type: 'error' as const }) });
    try {
      await withWorker(async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: `guard-${Date.now()}`,
          args: [{
            steps: 2,
            rollouts: { type: 'directory', path: dir },
            outputDir: join(dir, 'out'),
            // No recovery pass: the judge's failures are permanent here, and the count below is per pass.
            judge: { provider: 'bedrock', model: TEST_MODEL, rubric, maxAttempts: 2, recovery: { passes: 0 } },
            fallback: { policy: 'neutral', neutralValue: 0.5, maxRate: 0.5 },
            cache: false,
          }],
        });
        const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
        expect(paused.reason).toMatch(/fallback rate 100\.0% exceeded 50\.0% at step 1 \(server 4\)/);
        expect(paused.lastStep).toMatchObject({ fallback: 4, fallbackByReason: { server: 4 } });
        // Each rollout was tried maxAttempts times, no more.
        expect(fake.stats.requests).toBe(8);
        await handle.executeUpdate(resumeUpdate, { args: [{ judge: { provider: 'offline-heuristic' } }] });
        const result = await handle.result();
        expect(result).toMatchObject({ status: 'completed', stepsDone: 2 });
        expect(result.lastStep?.fallback).toBe(0);
      });
    } finally {
      fake.setOptions({ faults: [] });
    }
  });

  it('refused credentials pause the run at once with a clear reason', async () => {
    const dir = await tempDir();
    await writeSteps(dir, 1, 6);
    fake.reset();
    fake.setOptions({ faults: () => ({ ...bedrockErrors.expiredToken, type: 'error' as const }) });
    const authWorkflowId = `auth-${Date.now()}`;
    try {
      await withWorker(async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: authWorkflowId,
          args: [{
            steps: 1,
            rollouts: { type: 'directory', path: dir },
            outputDir: join(dir, 'out'),
            judge: { provider: 'bedrock', model: TEST_MODEL, rubric, quota: { maxInFlight: 1 } },
            cache: false,
          }],
        });
        const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
        expect(paused.reason).toMatch(/credentials/);
        expect(paused.stepsDone).toBe(0);
        // Not retried: one call told us everything.
        expect(fake.stats.requests).toBe(1);
        await handle.executeUpdate(cancelUpdate, { args: [{ mode: 'abandon-step' }] });
        expect((await handle.result()).status).toBe('cancelled');
      });
      await maybeRecordHistory('judge-refused-then-cancelled', authWorkflowId);
    } finally {
      fake.setOptions({ faults: [] });
    }
  });
});
