import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressQuery, submitRolloutsUpdate } from '../../workflows/definitions';
import { rollout, tempDir } from '../support/fixtures';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';

/** More steps than the run's progress keeps as `recent` (20). */
const LATER_STEPS = 22;

describe('a retry after the service restarted', () => {
  it('finds its request in the run folder however many steps ago it was scored: the same answer, nothing judged again', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      const runId = `serve-old-retry-${Date.now()}`;
      const options = { client, taskQueue, spillDir: join(dir, 'spill') };
      const request = { query: ['What is 2 + 2? It is 4.'], prompts: ['What is 2 + 2?'], labels: ['4'] };
      const first = await withService(options, async (svc) => {
        expect((await svc.post('/v1/runs', { runId, steps: 100, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const answer = await svc.post(`/openrlhf/${runId}`, request);
        expect(answer.status).toBe(200);
        return answer;
      });

      // The trainer goes on (here straight to the run) for more steps than the run keeps as recent.
      const handle = client.workflow.getHandle(runId);
      for (let step = 2; step <= LATER_STEPS + 1; step++) {
        await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, rollouts: [rollout(`later-${step}`)] }] });
      }
      const before = await handle.query(progressQuery);
      expect(before.recent.map((s) => s.step)).not.toContain(first.body.arbiter.step);

      await withService(options, async (svc) => {
        const retried = await svc.post(`/openrlhf/${runId}`, request);
        expect(retried.status).toBe(200);
        expect(retried.body).toEqual(first.body);
        const after = await handle.query(progressQuery);
        expect(after.stepsDone).toBe(before.stepsDone);
        expect(after.totals.rollouts).toBe(before.totals.rollouts);
      });
      await handle.terminate('test over');
    });
  }, 120_000);
});
