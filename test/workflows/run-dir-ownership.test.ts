import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { rollout, tempDir, writeSteps } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

/** Every message along an error's cause chain (an activity's failure sits under ActivityFailure). */
function messages(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' <- ');
}

describe('a run folder belongs to one execution', () => {
  it('a reused workflow id with new rollouts is refused, never handed the old rewards', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeSteps(rollouts, 1, 4);
    const outputDir = join(dir, 'out');
    const workflowId = `reused-${Date.now()}`;
    const args = [{ steps: 1, rollouts: { type: 'directory' as const, path: rollouts }, outputDir }] as const;
    const artifact = join(outputDir, workflowId, 'steps', '000001.rewards.jsonl');

    const second = await withWorker(async ({ client, taskQueue }) => {
      await client.workflow.execute(rftRun, { taskQueue, workflowId, args });
      const first = await readFile(artifact, 'utf8');

      // The trainer's next run: the same ids, other answers (Temporal allows the id again by default).
      const lines = ['s1-r0', 's1-r1', 's1-r2', 's1-r3'].map((id) => JSON.stringify(rollout(id, { response: `a different answer for ${id}` })));
      await writeFile(stepRolloutFile(rollouts, 1), lines.join('\n') + '\n');
      const outcome = await client.workflow.execute(rftRun, { taskQueue, workflowId, args }).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      return { first, outcome };
    });

    expect('error' in second.outcome, `the second run completed: ${JSON.stringify(second.outcome)}`).toBe(true);
    const error = (second.outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const text = messages(error);
    expect(text).toContain(`${join(outputDir, workflowId)} belongs to run ${workflowId}`);
    expect(text).toMatch(/give this run another id \(arbiter run start --id \/ runId\) or move that folder away/);
    // The first run's artifact is untouched.
    expect(await readFile(artifact, 'utf8')).toBe(second.first);
  });
});
