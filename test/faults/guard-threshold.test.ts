import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { cancelUpdate, progressQuery } from '../../workflows/definitions';
import { failWhereTextHas, markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { markReady, rollout, tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { rftRun } from '../../workflows/rft-run';

const fake = fakeBedrockPerFile({
  seed: 13,
  respond: markerJudge('leaving no continuity'),
  faults: failWhereTextHas('FAIL-ME'),
});

/** A 10-rollout step in which `failing` rollouts always get a 500 from the judge. */
async function runWithFailures(failing: number) {
  const dir = await tempDir();
  await mkdir(join(dir, 'rollouts'));
  const lines = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify(rollout(`r${i}`, { response: `${i < failing ? 'FAIL-ME ' : ''}leaving no continuity [${failing}-${i}]` })),
  );
  await writeFile(stepRolloutFile(join(dir, 'rollouts'), 1), lines.join('\n') + '\n');
  await writeFile(stepRolloutFile(join(dir, 'rollouts'), 2), lines.join('\n') + '\n');
  await markReady(join(dir, 'rollouts'), 1);
  await markReady(join(dir, 'rollouts'), 2);
  return withWorker(async ({ client, taskQueue }) => {
    const handle = await client.workflow.start(rftRun, {
      taskQueue,
      workflowId: `guard-${failing}-${Date.now()}`,
      args: [{
        steps: 2,
        rollouts: { type: 'directory', path: join(dir, 'rollouts') },
        outputDir: join(dir, 'out'),
        judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'ok', description: 'ok' }] }, maxAttempts: 1, quota: { requestsPerMinute: 60_000 }, recovery: { passes: 0 } },
        fallback: { maxRate: 0.2 },
        cache: false,
      }],
    });
    const progress = await waitFor(() => handle.query(progressQuery), (p) => p.status !== 'running' || p.stepsDone === 2);
    if (progress.status === 'paused') await handle.executeUpdate(cancelUpdate, { args: [{ mode: 'abandon-step' }] });
    await handle.result();
    return progress;
  });
}

describe('the fallback-rate guard', () => {
  it('does not trip at its threshold (2 of 10 fallbacks, maxRate 0.2)', async () => {
    const progress = await runWithFailures(2);
    expect(progress.stepsDone).toBe(2);
    expect(progress.status).not.toBe('paused');
    expect(progress.lastStep?.fallbackRate).toBe(0.2);
  });

  it('trips just above it (3 of 10), after the step that crossed it', async () => {
    const progress = await runWithFailures(3);
    expect(progress).toMatchObject({ status: 'paused', stepsDone: 1 });
    expect(progress.reason).toMatch(/fallback rate 30\.0% exceeded 20\.0% at step 1 \(server 3\)/);
  });
});
