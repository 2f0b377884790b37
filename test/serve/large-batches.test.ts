import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arbiter } from '../cli/run-cli';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { rollout, tempDir } from '../support/fixtures';

describe('arbiter serve, large batches and its own settings', () => {
  it('sends a batch over the inline limit by file, never through history, and still answers each rollout', async () => {
    const dir = await tempDir();
    const spillDir = join(dir, 'spill');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir }, async (svc) => {
        const runId = `serve-large-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 5, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') })).status).toBe(201);
        const rollouts = Array.from({ length: 1200 }, (_, i) => rollout(`r${i}`, { response: i % 2 ? '' : `${rollout('x').response} [${i}]` }));
        const res = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts });
        expect(res.status).toBe(200);
        expect(res.body.summary.count).toBe(1200);
        expect(res.body.rewards.map((r: { id: string }) => r.id)).toEqual(rollouts.map((r) => r.id));
        expect(res.body.rewards[0].reward).toBeGreaterThan(res.body.rewards[1].reward);
        expect(await readdir(join(spillDir, runId))).toEqual([expect.stringMatching(/^step-000001-.*\.jsonl$/)]);
        const history = JSON.stringify(await client.workflow.getHandle(runId).fetchHistory());
        expect(history).not.toContain('[998]');
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const res = await arbiter(['serve', '--host', '0.0.0.0', '--port', '0'], { ARBITER_SERVE_TOKEN: '' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--host 0\.0\.0\.0 listens beyond this machine: set --token or ARBITER_SERVE_TOKEN/);
  });

  it('names a bad batching flag before connecting to anything', async () => {
    const res = await arbiter(['serve', '--port', '0', '--answer-timeout-s', '0', '--address', '127.0.0.1:1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--answer-timeout-s 0: expected an integer in [1, 3600]');
  });
});
