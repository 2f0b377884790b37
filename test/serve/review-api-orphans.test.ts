import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { progressQuery } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { arbiter } from '../cli/run-cli';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { tempDir, writeSteps } from '../support/fixtures';

const TOKEN = 'orphan-review-token';

describe('the review page API and `review list` with a review nobody can answer', () => {
  it("lists the reviews that answer and names the one whose worker is gone, instead of waiting on it", async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await writeSteps(rolloutsDir, 1, 4);
    const workflowId = `orphans-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      // A review left open by a run whose workers are gone: its task queue has no poller, so it
      // answers no query (what other tests' and other teams' finished runs leave behind).
      const orphan = await client.workflow.start('runReview', { taskQueue: `nobody-polls-${workflowId}`, workflowId: `${workflowId}-gone-review`, args: [{}] });
      try {
        const run = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId,
          // Step 2's file never comes: the run and its review stay open.
          args: [{ steps: 2, rollouts: { type: 'directory', path: rolloutsDir }, outputDir: join(dir, 'out'), review: { everySteps: 1, samples: 2 } }],
        });
        await waitFor(() => run.query(progressQuery), (p) => p.stepsDone === 1);

        await withService({ client, taskQueue, token: TOKEN, spillDir: join(dir, 'spill') }, async (service) => {
          const auth = { authorization: `Bearer ${TOKEN}` };
          // Both are listed by visibility (eventually); the live one's items come, the orphan is named.
          const answer = await waitFor(
            () => service.get('/review/api/items', auth),
            (r) =>
              r.status === 200 &&
              r.body.items.filter((i: { reviewWorkflowId: string }) => i.reviewWorkflowId === `${workflowId}-review`).length === 2 &&
              r.body.unreadable.some((u: { reviewWorkflowId: string }) => u.reviewWorkflowId === orphan.workflowId),
            60_000,
          );
          const named = answer.body.unreadable.find((u: { reviewWorkflowId: string }) => u.reviewWorkflowId === orphan.workflowId);
          expect(named.message).toBe("no worker answered within 5 s: is a worker polling this run's task queue?");
        });
        // `arbiter review list` the same: the live review's items, and the orphan named.
        const listed = await arbiter(['review', 'list'], { TEMPORAL_ADDRESS: inject('temporalAddress') });
        expect(listed.code, listed.stderr).toBe(0);
        expect(listed.stdout).toContain(`${workflowId}-review`);
        expect(listed.stdout).toContain(`${orphan.workflowId}: could not read items (no worker answered within 10 s: is a worker polling this run's task queue?)`);
        await run.terminate('test over');
      } finally {
        await orphan.terminate('test over');
      }
    });
  });
});
