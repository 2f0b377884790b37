import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { submitRolloutsUpdate } from '../../workflows/definitions';
import { rollout, tempDir } from '../support/fixtures';
import { maybeRecordHistory } from '../helpers/histories';
import { chainHistoryLengths } from '../support/run-chain';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

const STEPS = 12;
const EVERY = 3;

describe('a run fed by submitRollouts', () => {
  it('continues as new every N steps, so its history stays bounded however long it runs', async () => {
    const dir = await tempDir();
    const workflowId = `updates-chain-${Date.now()}`;
    let firstRunId = '';
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: STEPS, rollouts: { type: 'updates' }, outputDir: join(dir, 'out'), chunkSize: 2, continueAsNewEverySteps: EVERY }],
      });
      firstRunId = handle.firstExecutionRunId;
      // A trainer that waits for each step's rewards before sending the next: the handle has no
      // run id, so each update goes to whichever execution of the chain is current.
      for (let step = 1; step <= STEPS; step++) {
        const rollouts = [0, 1, 2].map((i) => rollout(`s${step}-${i}`, { response: `answer ${i} of step ${step}` }));
        const result = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, rollouts }] });
        expect(result.step).toBe(step);
        expect(result.rewards?.map((r) => r.id).sort()).toEqual(rollouts.map((r) => r.id));
      }
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: STEPS });
      expect(result.totals.rollouts).toBe(STEPS * 3);

      const lengths = await chainHistoryLengths(client, workflowId, handle.firstExecutionRunId);
      expect(lengths.length, `history lengths ${lengths.join(', ')}`).toBe(STEPS / EVERY);
      // Each execution holds EVERY steps: its history does not grow with the length of the run.
      const longest = Math.max(...lengths);
      expect(longest, `history lengths ${lengths.join(', ')}`).toBeLessThan(60 * EVERY);
      console.log(`[updates-fed chain] ${STEPS} steps, ${lengths.length} executions, history lengths ${lengths.join(', ')}`);
    });
    // The first execution: submissions drained, then continued as new.
    await maybeRecordHistory('updates-fed-continued-as-new', workflowId, firstRunId);
  });
});
