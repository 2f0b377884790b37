import { join } from 'node:path';
import { WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/config/rollout';
import { pauseUpdate, progressQuery, reconfigureUpdate, resumeUpdate, submitRolloutsUpdate } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { eventId } from '../../bench/history-timings';
import { TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { historyOf, type HistoryEvent } from '../support/run-chain';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { maybeRecordHistory } from '../helpers/histories';
import { readManifestLines, readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

// Slow enough that a reconfigure sent once step 1 is under way lands before it is checkpointed.
const fake = fakeBedrockPerFile({ seed: 10, latencyMs: 3000 });

const stepRollouts = (step: number, n: number): Rollout[] =>
  Array.from({ length: n }, (_, i) => rollout(`s${step}-${i}`, { response: `answer ${i} of step ${step}` }));

/** Each activity of the history by type and step, with the ids of its scheduled, cancel-requested and completed events. */
function activities(events: HistoryEvent[]) {
  const byScheduled = new Map<number, { type: string; step: number; scheduled: number; completed?: number; cancelRequested?: number }>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const input = JSON.parse(Buffer.from(s.input!.payloads![0]!.data!).toString('utf8')) as { step?: number };
      byScheduled.set(eventId(e), { type: s.activityType!.name!, step: input.step ?? -1, scheduled: eventId(e) });
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) byScheduled.get(Number(c.scheduledEventId))!.completed = eventId(e);
    const r = e.activityTaskCancelRequestedEventAttributes;
    if (r) byScheduled.get(Number(r.scheduledEventId))!.cancelRequested = eventId(e);
  }
  return [...byScheduled.values()];
}

const patchIds = (events: HistoryEvent[]) =>
  events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });

/**
 * Submits the steps after the first and waits until each is staged, then the first: every later
 * step is already submitted when the run begins the one before it, as when `arbiter serve`
 * keeps several in flight.
 */
async function submitAhead(client: Client, handle: WorkflowHandle<typeof rftRun>, steps: number[], perStep: number) {
  const submit = (step: number) =>
    handle.startUpdate(submitRolloutsUpdate, { args: [{ step, rollouts: stepRollouts(step, perStep) }], waitForStage: WorkflowUpdateStage.ACCEPTED });
  const later = [];
  for (const step of steps.slice(1)) later.push(await submit(step));
  await waitFor(
    async () => activities(await historyOf(client, handle.workflowId)).filter((a) => a.type === 'stageRollouts' && a.completed).length,
    (staged) => staged === later.length,
  );
  return [await submit(steps[0]!), ...later];
}

describe('judging ahead: a run with several steps submitted', () => {
  it('judges the next step while it checkpoints the last; checkpoints, manifest lines and rewards stay in step order, one reward each', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    const workflowId = `judge-ahead-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 4, rollouts: { type: 'updates' }, outputDir, chunkSize: 2 }],
      });
      const updates = await submitAhead(client, handle, [1, 2, 3, 4], 3);

      const results = await Promise.all(updates.map((u) => u.result()));
      results.forEach((result, i) => {
        expect(result.step).toBe(i + 1);
        expect(result.rewards!.map((r) => r.id).sort()).toEqual(stepRollouts(i + 1, 3).map((r) => r.id));
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 4 });

      // The contract: a manifest line per step in step order, each rollout one reward in its step.
      const runDir = join(outputDir, workflowId);
      expect((await readManifestLines(runDir)).filter((l) => l.step !== undefined).map((l) => l.step)).toEqual([1, 2, 3, 4]);
      const { records } = await readRunRecords(runDir);
      expect(records.map((r) => r.id).sort()).toEqual([1, 2, 3, 4].flatMap((s) => stepRollouts(s, 3).map((r) => r.id)).sort());
      for (const r of records) expect(r.step).toBe(Number(r.id.slice(1, r.id.indexOf('-'))));

      const events = await historyOf(client, workflowId);
      const acts = activities(events);
      const one = (type: string, step: number) => {
        const found = acts.filter((a) => a.type === type && a.step === step);
        expect(found, `${type} of step ${step}`).toHaveLength(1); // each step prepared and checkpointed once
        return found[0]!;
      };
      // Checkpoints in step order, and each step after the first prepared before the one before it was checkpointed.
      const checkpoints = acts.filter((a) => a.type === 'checkpointStep').map((a) => a.step);
      expect(checkpoints).toEqual([1, 2, 3, 4]);
      for (const step of [2, 3, 4]) {
        expect(one('prepareStep', step).scheduled, `step ${step} prepared before step ${step - 1} was checkpointed`).toBeLessThan(
          one('checkpointStep', step - 1).completed!,
        );
      }
      // Two steps ahead at most: step 3 was prepared while step 1 was still being judged, step 4 only after it.
      expect(one('prepareStep', 3).scheduled, 'step 3 prepared before step 1 was checkpointed').toBeLessThan(one('checkpointStep', 1).completed!);
      expect(one('prepareStep', 4).scheduled, 'step 4 prepared once step 1 left the loop').toBeGreaterThan(one('checkpointStep', 1).scheduled);
      // Every chunk judged once: 3 rollouts in chunks of 2.
      expect(acts.filter((a) => a.type === 'scoreChunk')).toHaveLength(4 * 2);
      expect(patchIds(events)).toEqual(expect.arrayContaining(['overlap-submitted-steps', 'judge-two-steps-ahead']));
    });
    await maybeRecordHistory('steps-judged-ahead', workflowId);
    await maybeRecordHistory('steps-judged-two-ahead', workflowId);
  });

  it('a step judged ahead under a config changed since is scored afresh under the new one', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    const workflowId = `judge-ahead-reconfigured-${Date.now()}`;
    fake.reset();
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [
          {
            steps: 3,
            rollouts: { type: 'updates' },
            outputDir,
            chunkSize: 2,
            fallback: { neutralValue: 0.5 },
            judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'correct', description: 'Answers correctly' }] } },
            cache: false,
          },
        ],
      });
      const updates = await submitAhead(client, handle, [1, 2, 3], 2);
      // Step 1 under way, step 2 judging ahead of it: rewards move to another scale.
      await waitFor(() => handle.query(progressQuery), (p) => p.currentStep === 1);
      const reply = await handle.executeUpdate(reconfigureUpdate, { args: [{ rewards: { minReward: 10, maxReward: 11 }, fallback: { neutralValue: 10.5 } }] });
      expect(reply.message).toBe('reconfigured from step 2');

      const results = await Promise.all(updates.map((u) => u.result()));
      const rewards = results.map((r) => r.rewards!.map((x) => x.reward!));
      for (const r of rewards[0]!) expect(r).toBeLessThanOrEqual(1);
      for (const r of [...rewards[1]!, ...rewards[2]!]) expect(r).toBeGreaterThanOrEqual(10);
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 3 });
    });
  });

  it('a step judged ahead stops when the run pauses after the step before it, and is scored after resume, once', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    const workflowId = `judge-ahead-paused-${Date.now()}`;
    fake.reset();
    // Step 2's calls never answer until the fault is lifted: its judging ahead is still under way when the run pauses.
    fake.setOptions({ faults: (call) => (userText(call).includes('of step 2') ? { type: 'hang' } : undefined) });
    try {
      await withWorker(async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId,
          args: [
            {
              steps: 2,
              rollouts: { type: 'updates' },
              outputDir,
              chunkSize: 2,
              judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'correct', description: 'Answers correctly' }] } },
              cache: false,
              scoring: { heartbeatSeconds: 2 },
            },
          ],
        });
        const updates = await submitAhead(client, handle, [1, 2], 2);
        await waitFor(() => handle.query(progressQuery), (p) => p.currentStep === 1);
        await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'people look at step 1' }] });
        expect((await updates[0]!.result()).step).toBe(1);

        // Paused after step 1: step 2's chunks judging ahead are cancelled, not left paying.
        const chunks2 = await waitFor(
          async () => activities(await historyOf(client, workflowId)).filter((a) => a.type === 'scoreChunk' && a.step === 2),
          (chunks) => chunks.length > 0 && chunks.every((c) => c.cancelRequested !== undefined || c.completed !== undefined),
        );
        expect(chunks2.some((c) => c.cancelRequested !== undefined)).toBe(true);
        const progress = await handle.query(progressQuery);
        expect(progress).toMatchObject({ status: 'paused', stepsDone: 1 });
        expect(progress.currentStep).toBeUndefined(); // what step 2 judged ahead is no step in progress

        fake.setOptions({ faults: undefined });
        await handle.executeUpdate(resumeUpdate, { args: [{}] });
        const second = await updates[1]!.result();
        expect(second.rewards!.map((r) => r.id).sort()).toEqual(stepRollouts(2, 2).map((r) => r.id));
        expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 2 });
        const { manifest, records } = await readRunRecords(join(outputDir, workflowId));
        expect(manifest.map((m) => m.step)).toEqual([1, 2]);
        expect(records.map((r) => r.id).sort()).toEqual([...stepRollouts(1, 2), ...stepRollouts(2, 2)].map((r) => r.id).sort());
      });
    } finally {
      fake.setOptions({ faults: undefined });
    }
  });

  it('a run with a budget judges nothing ahead that the loop would not have begun: it stops where a run without judging ahead stops', async () => {
    const dir = await tempDir();
    const judge = { provider: 'bedrock' as const, model: TEST_MODEL, rubric: { criteria: [{ id: 'correct', description: 'Answers correctly' }] } };
    const prices = { [TEST_MODEL]: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } };
    const base = { rollouts: { type: 'updates' as const }, outputDir: join(dir, 'out'), chunkSize: 2, judge, prices, cache: false };
    const callsOfStep = new Map<number, number>();
    fake.reset();
    fake.setOptions({
      latencyMs: 500,
      faults: (call) => {
        const step = Number(/of step (\d+)/.exec(userText(call))?.[1]);
        callsOfStep.set(step, (callsOfStep.get(step) ?? 0) + 1);
        return undefined;
      },
    });
    try {
      await withWorker(async ({ client, taskQueue }) => {
        // What one step costs: every step's rollouts are the same size.
        const probe = await client.workflow.start(rftRun, { taskQueue, workflowId: `judge-ahead-cost-${Date.now()}`, args: [{ ...base, steps: 1 }] });
        await probe.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, rollouts: stepRollouts(1, 2) }] });
        const stepCost = (await probe.result()).lastStep!.costUsd;
        expect(stepCost).toBeGreaterThan(0);
        callsOfStep.clear();

        // Half a step over two: the loop scores steps 1 and 2 (each begun under the budget) and pauses before step 3.
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: `judge-ahead-budget-${Date.now()}`,
          args: [{ ...base, steps: 4, budgetUsd: stepCost * 1.5 }],
        });
        const updates = await submitAhead(client, handle, [1, 2, 3, 4], 2);
        expect((await updates[1]!.result()).step).toBe(2);
        const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
        expect(paused.stepsDone).toBe(2);
        expect(paused.reason).toMatch(/^budget of \$[\d.]+ reached/);
        // Let anything still on its way arrive before counting.
        await new Promise((r) => setTimeout(r, 1500));
        expect([...callsOfStep.keys()].sort()).toEqual([1, 2]);
        expect(callsOfStep.get(3) ?? 0).toBe(0);
        // Nor was step 3 begun at all (a prepare cancelled in time would have cost nothing only by luck).
        const begun = activities(await historyOf(client, handle.workflowId)).filter((a) => a.step >= 3 && a.type !== 'stageRollouts');
        expect(begun.map((a) => `${a.type} of step ${a.step}`)).toEqual([]);
        await handle.terminate('test over');
      });
    } finally {
      fake.setOptions({ faults: undefined, latencyMs: 3000 });
    }
  });
});
