import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter as payloadConverter } from '@temporalio/common';
import type { HistoryEvent } from '../support/run-chain';
import { historyOf } from '../support/run-chain';
import type { RequestStatuses } from '../../src/contract/trainer-requests';
import { pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions';
import { maybeRecordHistory } from '../helpers/histories';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { rollout, tempDir } from '../support/fixtures';
import { decompressed } from '../../src/temporal/payload-compression';

const STEP_ACTIVITIES = ['prepareStep', 'scoreChunk', 'checkpointStep'];

/** Each submitRequests Update's reply, as the run recorded it. */
function updateReplies(events: HistoryEvent[]): RequestStatuses[] {
  return events
    .map((e) => e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads?.[0])
    .filter((p) => p !== undefined)
    .map((p) => payloadConverter.fromPayload<RequestStatuses>(decompressed(p as never)));
}

/** The type of each local activity the run completed, from core's markers. */
function localActivities(events: HistoryEvent[]): string[] {
  return events
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .map((m) => (JSON.parse(Buffer.from(m!.details!.data!.payloads![0]!.data!).toString('utf8')) as { activity_type: string }).activity_type);
}

/** Steps the run checkpointed, by the Update replies that name a step. */
function stepsAnswered(events: HistoryEvent[]): number {
  return new Set(updateReplies(events).flatMap((r) => r.statuses.map((s) => (s.state === 'answered' ? s.step : undefined)).filter((x) => x !== undefined))).size;
}

// Issue 19: with a judge that answers at once, a step of requests still paid three task-queue
// activities and their workflow tasks (~300 ms), and the caller then polled for its answer.
describe('steps scored at once (offline judge, requests)', () => {
  it('prepares, judges and checkpoints each step beside the workflow, and answers callers in their Update', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `at-once-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 20, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) => svc.post(`/v1/runs/${runId}/rewards`, { requestId: `req-${i}`, rollouts: [rollout(`r${i}`)] })),
        );
        for (const a of answers) {
          expect(a.status).toBe(200);
          expect(a.body.replayed).toBe(false);
          expect(typeof a.body.rewards[0].reward).toBe('number');
        }
        // The same key again: the run had answered it, nothing is judged.
        const again = await svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'req-3', rollouts: [rollout('r3')] });
        expect(again.status).toBe(200);
        expect(again.body.replayed).toBe(true);
        expect(again.body.rewards).toEqual(answers[3]!.body.rewards);

        const events = await historyOf(client, runId);
        const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
        expect(scheduled.filter((name) => STEP_ACTIVITIES.includes(name!))).toEqual([]);
        // One local activity per step did it all, in the task that took the step.
        expect(localActivities(events).filter((t) => t === 'scoreStepAtOnce')).toHaveLength(stepsAnswered(events));
        // Every reply to a first sending carries its rewards (the caller asked for nothing afterwards).
        const statuses = updateReplies(events).flatMap((r) => r.statuses);
        expect(statuses.length).toBeGreaterThanOrEqual(11);
        for (const s of statuses) expect(s.state).toBe('answered');
        const fresh = statuses.filter((s) => s.state === 'answered' && s.fresh);
        expect(fresh.map((s) => s.key).sort()).toEqual(answers.map((_, i) => `r-req-${i}`).sort());
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.totals.rollouts).toBe(10);
        await maybeRecordHistory('requests-scored-at-once', runId);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('a paused run returns the Update at once; the caller gets its answer after resume', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), batching: { answerTimeoutMs: 60_000 } }, async (svc) => {
        const runId = `at-once-paused-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 5, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const handle = client.workflow.getHandle(runId);
        await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'looking at the rubric' }] });
        const answer = svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'held', rollouts: [rollout('held')] });
        // The Update returned `accepted` (no Update stays open while the run is paused).
        await expect.poll(async () => (await historyOf(client, runId)).some((e) => e.workflowExecutionUpdateCompletedEventAttributes), { timeout: 20_000 }).toBe(true);
        expect((await handle.query(progressQuery)).stepsDone).toBe(0);
        await handle.executeUpdate(resumeUpdate, { args: [{}] });
        const res = await answer;
        expect(res.status).toBe(200);
        expect(res.body.replayed).toBe(false);
        expect((await handle.query(progressQuery)).stepsDone).toBe(1);
        await handle.terminate('test over');
      });
    });
  });
});
