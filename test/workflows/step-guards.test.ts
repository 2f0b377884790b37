import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { progressQuery, reconfigureUpdate, resumeUpdate, submitRolloutsUpdate } from '../../workflows/definitions';
import { failingActivities, slowActivities } from '../helpers/activity-faults';
import { maybeRecordHistory } from '../helpers/histories';
import { markReady, rollout, tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { rftRun } from '../../workflows/rft-run';

const good = (id: string) => JSON.stringify(rollout(id, { response: `High risk: no notice, no continuity [${id}]` }));

async function writeStep(dir: string, step: number, lines: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(stepRolloutFile(dir, step), lines.join('\n') + '\n');
  await markReady(dir, step);
}

async function activityEvents(handle: WorkflowHandle, type: string) {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)),
  );
  const started = events.filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
  const timedOut = events.filter((e) => scheduled.has(String(e.activityTaskTimedOutEventAttributes?.scheduledEventId)));
  return { scheduled: scheduled.size, attempts: started.map((e) => e.activityTaskStartedEventAttributes!.attempt), timedOut: timedOut.length };
}

describe('a step that makes no sense is not scored', () => {
  it('a step whose lines are all quarantined pauses the run, naming the file and the reasons; fixed and resumed, it is scored', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeStep(rollouts, 1, ['{"id": "a", "prompt": "p"', 'not json at all', '{"id": "b"}']);
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `all-quarantined-${Date.now()}`,
        args: [{ steps: 1, rollouts: { type: 'directory', path: rollouts }, outputDir: join(dir, 'out') }],
      });
      const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
      expect(paused.reason).toContain(stepRolloutFile(rollouts, 1));
      expect(paused.reason).toMatch(/no valid rollout .*3 lines: broken JSON 2, not a rollout 1/);
      expect(paused.reason).toMatch(/000001\.quarantine\.jsonl/);
      expect(paused.stepsDone).toBe(0);
      expect(await readManifest(join(dir, 'out', handle.workflowId, 'manifest.jsonl'))).toEqual([]);

      await writeStep(rollouts, 1, [good('a'), good('b')]);
      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'trainer fixed' }] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: 1 });
      expect(result.totals.rollouts).toBe(2);
      await maybeRecordHistory('quarantined-step-paused-then-fixed', handle.workflowId);
    });
  });

  it('above quarantine.maxShare the run pauses; raising it with reconfigure and resuming scores the valid lines', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    const lines = Array.from({ length: 10 }, (_, i) => (i < 2 ? `{"id": "cut-${i}", "pro` : good(`r${i}`)));
    await writeStep(rollouts, 1, lines);
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `quarantine-share-${Date.now()}`,
        args: [{ steps: 1, rollouts: { type: 'directory', path: rollouts }, outputDir: join(dir, 'out') }],
      });
      const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
      expect(paused.reason).toMatch(/2 of 10 lines of .* quarantined \(broken JSON 2\), above quarantine\.maxShare 10\.0%/);

      await handle.executeUpdate(reconfigureUpdate, { args: [{ quarantine: { maxShare: 0.25 } }] });
      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      const result = await handle.result();
      expect(result.totals.rollouts).toBe(8);
      expect(result.lastStep?.quarantined).toBe(2);
    });
  });

  it('a trainer submitting a batch with no valid line by path hears why at once and can send a fixed one', async () => {
    const dir = await tempDir();
    const bad = join(dir, 'bad.jsonl');
    const fixed = join(dir, 'fixed.jsonl');
    await writeFile(bad, 'oops\n{"id": 1}\n');
    await writeFile(fixed, [good('x'), good('y')].join('\n') + '\n');
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `refused-submission-${Date.now()}`,
        args: [{ steps: 1, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') }],
      });
      const refused = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, path: bad }] }).then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
      expect(refused).toMatch(/step 1: no valid rollout in .*bad\.jsonl/);
      expect((await handle.query(progressQuery)).status).toBe('paused');

      // Resumed, the run waits for step 1 again. A file still being written (its last line cut)
      // is refused too, not scored in part.
      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      const cut = join(dir, 'cut.jsonl');
      await writeFile(cut, good('x') + '\n' + good('y').slice(0, 40));
      const unterminated = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, path: cut }] }).then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
      expect(unterminated).toMatch(/cut\.jsonl ends without a newline: a file still being written\?/);
      expect((await handle.query(progressQuery)).status).toBe('paused');

      const pending = handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, path: fixed }] });
      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      expect((await pending).summary.count).toBe(2);
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 1 });
    });
  });
});

describe('activities that run long and activities that fail for good', () => {
  it('a slow prepare and a slow checkpoint heartbeat: one attempt each, no timeout, with a 1 s heartbeat timeout', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeStep(rollouts, 1, [good('a'), good('b'), good('c')]);
    // Each takes three heartbeat timeouts longer than it would, as on a slow shared filesystem.
    const slow = slowActivities({ prepareStep: 3000, checkpointStep: 3000 });
    await withWorker(
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: `slow-files-${Date.now()}`,
          args: [{
            steps: 1,
            rollouts: { type: 'directory', path: rollouts },
            outputDir: join(dir, 'out'),
            scoring: { heartbeatSeconds: 1, maximumAttempts: 2, initialIntervalSeconds: 0.1 },
          }],
        });
        expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 1 });
        for (const type of ['prepareStep', 'checkpointStep']) {
          expect(await activityEvents(handle, type), type).toEqual({ scheduled: 1, attempts: [1], timedOut: 0 });
        }
      },
      { activityInterceptors: [slow] },
    );
  });

  it('a chunk that exhausts its retries pauses the run with the reason; resumed, the step is scored once', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeStep(rollouts, 1, ['a', 'b', 'c', 'd'].map(good));
    let diskBroken = true;
    const broken = failingActivities(
      (type, input) => diskBroken && type === 'scoreChunk' && (input as { chunk: number }).chunk === 1,
      'EIO: i/o error, write (test: the disk under chunk 1 is broken)',
    );
    await withWorker(
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: `chunk-exhausted-${Date.now()}`,
          args: [{
            steps: 1,
            chunkSize: 2,
            rollouts: { type: 'directory', path: rollouts },
            outputDir: join(dir, 'out'),
            scoring: { maximumAttempts: 2, initialIntervalSeconds: 0.1 },
          }],
        });
        const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
        expect(paused.reason).toMatch(/step 1: scoreChunk failed after all its attempts: EIO: i\/o error.*chunk 1 is broken\); fix the cause, then resume/);
        expect(await activityEvents(handle, 'scoreChunk')).toMatchObject({ scheduled: 2 });

        diskBroken = false;
        await handle.executeUpdate(resumeUpdate, { args: [{ note: 'disk replaced' }] });
        const result = await handle.result();
        expect(result).toMatchObject({ status: 'completed', stepsDone: 1 });
        expect(result.totals.rollouts).toBe(4);
        const manifest = await readManifest(join(dir, 'out', handle.workflowId, 'manifest.jsonl'));
        expect(manifest.map((m) => [m.step, m.summary.count])).toEqual([[1, 4]]);
        await maybeRecordHistory('chunk-failed-paused-resumed', handle.workflowId);
      },
      { activityInterceptors: [broken] },
    );
  });
});
