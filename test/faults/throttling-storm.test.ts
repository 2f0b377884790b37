import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { tempDir, writeSteps } from '../support/fixtures';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { rftRun } from '../../workflows/rft-run';

const fake = fakeBedrockPerFile({ seed: 21, latencyMs: [20, 40], respond: markerJudge('leaving no continuity') });

const rubric = { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] };

describe('a short throttling storm', () => {
  it('in the middle of a step costs no rewards: failed samples are judged again after a cool-down', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 1, 40);
    const outputDir = join(dir, 'out');
    fake.reset();
    // 10 s of 429s (each saying "retry after 2 s") from the 10th call on: longer than one call's retries last.
    fake.setOptions({ storm: { afterRequests: 10, durationMs: 10_000 }, retryAfterSeconds: 2 });
    try {
      await withWorker(({ client, taskQueue }) =>
        client.workflow.execute(rftRun, {
          taskQueue,
          workflowId: `storm-${Date.now()}`,
          args: [{
            runId: 'storm',
            steps: 1,
            rollouts: { type: 'directory', path: join(dir, 'rollouts') },
            // Judge defaults (retries, recovery) on purpose: the defaults must ride out the storm. A quota
            // the limiter can go fast in, so the storm is met by retries rather than slow pacing.
            judge: { provider: 'bedrock', model: TEST_MODEL, rubric, quota: { requestsPerMinute: 60_000, maxInFlight: 4 } },
            chunkSize: 10,
            cache: false,
            // Let a run with fallbacks finish rather than pause, so the count can be compared.
            fallback: { maxRate: 1 },
            outputDir,
          }],
        }),
      );
    } finally {
      fake.setOptions({ storm: undefined, retryAfterSeconds: undefined });
    }
    const { manifest, records } = await readRunRecords(join(outputDir, 'storm'));
    const fallbacks = records.filter((r) => r.status !== 'scored');
    console.log(`throttling storm: ${fake.stats.throttled} throttled calls, ${fallbacks.length} fallbacks of ${records.length}`);
    expect(fake.stats.stormStartedAtRequest).toBe(10);
    expect(fake.stats.throttled).toBeGreaterThan(30);
    expect(manifest[0]!.summary).toMatchObject({ count: 40, scored: 40, fallback: 0, fallbackRate: 0 });
    expect(fallbacks).toEqual([]);
    // Every rollout was answered by the model exactly once: throttled calls are not answers.
    expect(fake.stats.ok).toBe(40);
  }, 120_000);
});
