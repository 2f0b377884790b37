import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configQuery, pauseUpdate, reconfigureUpdate, resumeUpdate } from '../../workflows/definitions';
import { tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

/** Leaf paths whose values differ between two configs (arrays compared whole). */
function changedPaths(a: unknown, b: unknown, path = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

const bedrockJudge = {
  provider: 'bedrock' as const,
  model: 'judge-a',
  region: 'us-east-1',
  rubric: { criteria: [{ id: 'correct', description: 'The answer is correct.' }] },
};

// One request per field: each changes what it names, and nothing else.
const requests: [request: Record<string, unknown>, changes: string[]][] = [
  [{ review: { samples: 5 } }, ['review.samples']],
  [{ rewards: { weights: { judge: 0.5 } } }, ['rewards.weights.judge']],
  [{ weights: { judge: 0.25 } }, ['rewards.weights.judge']],
  [{ rewards: { length: { max: 400 } } }, ['rewards.length.max']],
  [{ fallback: { maxRate: 0.3 } }, ['fallback.maxRate']],
  [{ fallbackMaxRate: 0.35 }, ['fallback.maxRate']],
  [{ fallback: { policy: 'exclude' } }, ['fallback.policy']],
  [{ quarantine: { maxShare: 0.5 } }, ['quarantine.maxShare']],
  [{ scoring: { maximumAttempts: 3 } }, ['scoring.maximumAttempts']],
  [{ chunkSize: 7 }, ['chunkSize']],
  [{ maxChunksInFlight: 3 }, ['maxChunksInFlight']],
  [{ cache: false }, ['cache']],
  [{ prices: { 'judge-a': { inputPerMTok: 1, outputPerMTok: 5 } } }, ['prices.judge-a']],
  [{ budgetUsd: 12 }, ['budgetUsd']],
  [{ judge: { temperature: 0.5 } }, ['judge.temperature']],
  [{ judge: { quota: { requestsPerMinute: 120 } } }, ['judge.quota.requestsPerMinute']],
  [{ judge: { rubric: { criteria: [{ id: 'safe', description: 'The answer is safe.' }] } } }, ['judge.rubric.criteria']],
];

describe('reconfigure', () => {
  it('changes only what it names, one request per field, with the config file’s names', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `reconfigure-${Date.now()}`,
        // No rollout file ever comes: the run waits on step 1 while it is reconfigured.
        args: [{
          steps: 4,
          rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
          outputDir: join(dir, 'out'),
          judge: bedrockJudge,
          rewards: { weights: { judge: 1, safety: 1, length: 0.5 }, length: { max: 300 } },
          review: { everySteps: 2, samples: 3, agreementFloor: 0.8 },
          fallback: { maxRate: 0.2 },
        }],
      });
      let before = await handle.query(configQuery);
      for (const [request, changes] of requests) {
        await handle.executeUpdate(reconfigureUpdate, { args: [request as never] });
        const after = await handle.query(configQuery);
        expect(changedPaths(before, after), JSON.stringify(request)).toEqual(changes);
        before = after;
      }
      // The safety weight survived every change of the judge's weight: the veto is still on.
      expect(before.rewards.weights).toMatchObject({ judge: 0.25, safety: 1, length: 0.5 });
      expect(before.review).toMatchObject({ everySteps: 2, samples: 5, agreementFloor: 0.8 });

      // A judge of another provider replaces the judge whole.
      await handle.executeUpdate(reconfigureUpdate, { args: [{ judge: { provider: 'offline-heuristic' as const } }] });
      expect((await handle.query(configQuery)).judge).toEqual({ provider: 'offline-heuristic' as const, mode: 'rubric' });

      const rejection = (request: unknown) =>
        handle.executeUpdate(reconfigureUpdate, { args: [request as never] }).then(
          () => 'accepted',
          (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
        );
      expect(await rejection({ review: { samples: -1 } })).toMatch(/review\.samples/);
      expect(await rejection({ fallback: { maxRate: 2 } })).toMatch(/fallback\.maxRate/);
      expect(await rejection({ steps: 9 })).toMatch(/steps/);
      await handle.terminate('test over');
    });
  });

  it('resume with a new judge checks it against the whole config, as reconfigure does', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `resume-judge-${Date.now()}`,
        args: [{ steps: 2, rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') }, outputDir: join(dir, 'out'), budgetUsd: 5 }],
      });
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'switch judges' }] });
      // A priced budget needs a price for the new judge's model: without one the budget could never stop the run.
      const refused = await handle.executeUpdate(resumeUpdate, { args: [{ judge: bedrockJudge as never }] }).then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
      expect(refused).toMatch(/budgetUsd/);
      expect((await handle.query(configQuery)).judge.provider).toBe('offline-heuristic');
      await handle.terminate('test over');
    });
  });
});
