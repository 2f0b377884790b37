import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { submitRolloutsUpdate } from '../../workflows/definitions';
import { failWhereTextHas, markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { rollout, tempDir, markReady } from '../support/fixtures';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { rftRun } from '../../workflows/rft-run';

// The judge fails (500) on every rollout marked FAIL-ME and answers the others.
const fake = fakeBedrockPerFile({
  seed: 5,
  respond: markerJudge('leaving no continuity'),
  faults: failWhereTextHas('FAIL-ME'),
});

const judge = {
  provider: 'bedrock' as const,
  model: TEST_MODEL,
  rubric: { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] },
  maxAttempts: 1,
  recovery: { passes: 0 },
};
const rollouts = [0, 1, 2, 3].map((i) => rollout(`r${i}`, i < 2 ? { response: `FAIL-ME ${rollout('x').response} [${i}]` } : { response: `${rollout('x').response} [${i}]` }));

describe('fallback rewards mean what they say', () => {
  it('neutral is the midpoint of the reward range: 0 in [-1, 1]', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await writeFile(join(dir, 'x'), '');
    await import('node:fs/promises').then((fs) => fs.mkdir(rolloutsDir, { recursive: true }));
    await writeFile(stepRolloutFile(rolloutsDir, 1), rollouts.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await markReady(rolloutsDir, 1);
    const outputDir = join(dir, 'out');
    await withWorker(({ client, taskQueue }) =>
      client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `neutral-${Date.now()}`,
        args: [{
          runId: 'neutral',
          steps: 1,
          rollouts: { type: 'directory' as const, path: rolloutsDir },
          judge,
          rewards: { minReward: -1, maxReward: 1 },
          fallback: { maxRate: 1 },
          cache: false,
          outputDir,
        }],
      }),
    );
    const { records } = await readRunRecords(join(outputDir, 'neutral'));
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const id of ['r0', 'r1']) expect(byId.get(id)).toMatchObject({ status: 'fallback', reward: 0, flags: ['fallback:server'] });
    for (const id of ['r2', 'r3']) expect(byId.get(id)).toMatchObject({ status: 'scored', reward: 1 });
  });

  it('an excluded sample has no reward: null in the artifact and in the submitRollouts reply', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `exclude-${Date.now()}`,
        args: [{ runId: 'exclude', steps: 1, rollouts: { type: 'updates' as const }, judge, fallback: { policy: 'exclude', maxRate: 1 }, cache: false, outputDir }],
      });
      const reply = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, rollouts }] });
      const inline = new Map(reply.rewards!.map((r) => [r.id, r]));
      for (const id of ['r0', 'r1']) expect(inline.get(id)).toMatchObject({ status: 'excluded', reward: null });
      for (const id of ['r2', 'r3']) expect(inline.get(id)).toMatchObject({ status: 'scored', reward: 1 });
      // The step's statistics are over the rewards a trainer can use, not over a stand-in.
      expect(reply.summary).toMatchObject({ count: 4, scored: 2, excluded: 2, reward: { mean: 1, min: 1 } });
      await handle.result();
    });
    const { records } = await readRunRecords(join(outputDir, 'exclude'));
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const id of ['r0', 'r1']) expect(byId.get(id)).toMatchObject({ status: 'excluded', reward: null, flags: ['fallback:server'] });
  });
});
