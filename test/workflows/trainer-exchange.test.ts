import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressQuery, submitRolloutsUpdate } from '../../workflows/definitions';
import { rollout, tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

describe('a trainer pushing steps with submitRollouts', () => {
  it('gets each step’s rewards back, inline or by path', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `trainer-${Date.now()}`,
        args: [{ steps: 3, rollouts: { type: 'updates' }, outputDir: join(dir, 'out'), chunkSize: 2 }],
      });

      // Step 1 and 2 inline, as a small trainer would.
      for (const step of [1, 2]) {
        const rollouts = [0, 1, 2].map((i) => rollout(`s${step}-${i}`, i === 2 ? { response: '' } : {}));
        const result = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, rollouts }] });
        expect(result.step).toBe(step);
        expect(result.summary.count).toBe(3);
        expect(result.rewards?.map((r) => r.id)).toEqual(expect.arrayContaining(rollouts.map((r) => r.id)));
        const empty = result.rewards!.find((r) => r.id === `s${step}-2`)!;
        const good = result.rewards!.find((r) => r.id === `s${step}-0`)!;
        expect(good.reward).toBeGreaterThan(empty.reward!);
      }

      // Step 3 by path (claim check): nothing but the path travels through history.
      const file = join(dir, 'step-3.jsonl');
      await writeFile(file, [0, 1].map((i) => JSON.stringify(rollout(`s3-${i}`))).join('\n') + '\n');
      const third = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 3, path: file }] });
      expect(third.summary.count).toBe(2);
      expect(third.rewards).toBeUndefined();
      expect(third.file).toMatch(/000003\.rewards\.jsonl$/);

      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: 3 });
      expect(result.totals.rollouts).toBe(8);
    });
  });

  it('rejects submissions that do not fit the run before they reach history', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `trainer-bad-${Date.now()}`,
        args: [{ steps: 1, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') }],
      });
      const reject = (args: unknown) =>
        handle.executeUpdate(submitRolloutsUpdate, { args: [args as never] }).then(
          () => 'accepted',
          (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
        );
      expect(await reject({ step: 5, rollouts: [rollout('x')] })).toMatch(/step 5 is not ahead/);
      expect(await reject({ step: 1 })).toMatch(/either rollouts or path/);
      expect(await reject({ step: 1, rollouts: [{ id: 'x', prompt: 'p' }] })).toMatch(/rollouts\.0\.response/);
      const huge = [rollout('big', { response: 'x'.repeat(300_000) })];
      expect(await reject({ step: 1, rollouts: huge })).toMatch(/write them to a file and send its path/);
      const history = await handle.fetchHistory();
      // Rejected updates leave no trace in history.
      const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted).toHaveLength(0);
      expect((await handle.query(progressQuery)).stepsDone).toBe(0);
      await handle.terminate('test over');
    });
  });
});
