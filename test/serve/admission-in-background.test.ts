import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLayout } from '../../src/contract/run-layout';
import type { HistoryEvent } from '../support/run-chain';
import { historyOf } from '../support/run-chain';
import { cancelUpdate, progressQuery } from '../../workflows/definitions';
import { heldActivities } from '../helpers/activity-faults';
import { maybeRecordHistory } from '../helpers/histories';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { rollout, tempDir } from '../support/fixtures';

/** Workflow tasks that completed between each submitRequests update's acceptance and its completion. */
function tasksInsideUpdates(events: HistoryEvent[]): number[] {
  const acceptedAt = new Map<string, number>();
  const inside: number[] = [];
  let tasks = 0;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) tasks++;
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted?.acceptedRequest?.input?.name === 'submitRequests') acceptedAt.set(accepted.protocolInstanceId!, tasks);
    const done = e.workflowExecutionUpdateCompletedEventAttributes;
    const id = done?.meta?.updateId;
    if (id && acceptedAt.has(id)) inside.push(tasks - acceptedAt.get(id)!);
  }
  return inside;
}

// Issue 19: a trainer's request waited for an activity round trip inside its Update before the
// run said it had it. The Update now returns from the task that delivered it; the ledger records
// the requests waiting, together, in a local activity before any step holds them.
describe('trainer requests admitted in the background', () => {
  it('answers each request from the workflow task that accepted it, records it in the ledger, and scores it', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `admit-bg-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 20, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => svc.post(`/v1/runs/${runId}/rewards`, { requestId: `req-${i}`, rollouts: [rollout(`r${i}`)] })),
        );
        for (const a of answers) expect(a.status).toBe(200);
        const events = await historyOf(client, runId);
        const inside = tasksInsideUpdates(events);
        expect(inside.length).toBeGreaterThan(0);
        expect(inside.every((n) => n === 0)).toBe(true);
        // No task-queue activity records requests any more: a local activity (a marker) does.
        const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
        expect(scheduled).not.toContain('admitRequests');
        expect(events.some((e) => e.markerRecordedEventAttributes)).toBe(true);
        const records = (await readdir(RunLayout.of(outputDir, runId).requestsDir)).filter((f) => f.endsWith('.claim'));
        expect(records).toHaveLength(12);
        expect((await client.workflow.getHandle(runId).query(progressQuery)).totals.rollouts).toBe(12);
        await maybeRecordHistory('requests-admitted-in-background-scored', runId);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('a run that ends while its requests are being recorded tells their callers so, at once', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const hold = heldActivities((type) => {
      if (type !== 'admitRequests') return undefined;
      held();
      return released;
    });
    await withWorker(
      async ({ client, taskQueue }) => {
        await withService({ client, taskQueue, spillDir: join(dir, 'spill'), batching: { answerTimeoutMs: 60_000 } }, async (svc) => {
          const runId = `admit-bg-end-${Date.now()}`;
          expect((await svc.post('/v1/runs', { runId, steps: 5, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
          const answer = svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'late', rollouts: [rollout('late')] });
          await holding;
          // The admission is in flight: the run is cancelled before it returns.
          await client.workflow.getHandle(runId).executeUpdate(cancelUpdate, { args: [{ mode: 'abandon-step', reason: 'trainer stopped' }] });
          const res = await answer;
          release();
          expect(res.status).toBe(409);
          expect(res.body.error).toBe('run_ended');
        });
      },
      { activityInterceptors: [hold] },
    );
  });

  it('after continue-as-new, a key the run forgot is answered from the ledger, or refused when its content changed', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `admit-bg-can-${Date.now()}`;
        const created = await svc.post('/v1/runs', { runId, steps: 20, rollouts: { type: 'updates' }, outputDir, continueAsNewEverySteps: 1 });
        expect(created.status).toBe(201);
        const first = await svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'kept', rollouts: [rollout('a')] });
        expect(first.status).toBe(200);
        // Enough later steps that the run moved to fresh histories and its memory of `kept` is gone.
        for (let i = 0; i < 6; i++) expect((await svc.post(`/v1/runs/${runId}/rewards`, { requestId: `later-${i}`, rollouts: [rollout(`l${i}`)] })).status).toBe(200);
        const again = await svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'kept', rollouts: [rollout('a')] });
        expect(again.status).toBe(200);
        expect(again.body.rewards).toEqual(first.body.rewards);
        expect(again.body.replayed).toBe(true);
        const changed = await svc.post(`/v1/runs/${runId}/rewards`, { requestId: 'kept', rollouts: [rollout('a', { response: 'other' })] });
        expect(changed.status).toBe(409);
        expect(changed.body.error).toBe('idempotency_key_reused');
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.stepsDone).toBe(7);
        await maybeRecordHistory('requests-admitted-in-background', runId);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });
});
