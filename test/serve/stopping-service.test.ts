import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildServer, type ServeOptions } from '../../src/serve/server';
import { pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { tempDir } from '../support/fixtures';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

describe('arbiter serve stopping', () => {
  it('tells callers still waiting for their run a retryable service_stopping at once; their retry elsewhere gets the rewards', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const runId = `serve-stop-${Date.now()}`;
      const options: ServeOptions = {
        client,
        taskQueue,
        spillDir: join(dir, 'spill'),
        runTemplate: { steps: 100, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') },
        // Far longer than the test: a caller answered before it heard from the closing, not from its timeout.
        batching: { answerTimeoutMs: 600_000 },
      };
      const request = (i: number) => ({ query: [`What is 2 + 2? It is 4. (${i})`], prompts: ['What is 2 + 2?'], labels: ['4'] });
      const app = buildServer(options);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/openrlhf/${runId}`;
      expect((await post(url, request(0))).status).toBe(200);

      // Paused, the run records requests and holds them: their callers wait.
      const handle = client.workflow.getHandle(runId);
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'test: hold the next step' }] });
      const waiting = [post(url, request(1)), post(url, request(2))];
      await waitFor(async () => app.batcher(runId).phases.recorded.count, (n) => n >= 3);

      await app.close();
      for (const answer of await Promise.all(waiting)) {
        expect(answer.status).toBe(503);
        expect(answer.body.error).toBe('service_stopping');
      }

      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'test: go on' }] });
      await withService(options, async (svc) => {
        const retried = await Promise.all([svc.post(`/openrlhf/${runId}`, request(1)), svc.post(`/openrlhf/${runId}`, request(2))]);
        for (const r of retried) {
          expect(r.status).toBe(200);
          expect(r.body.rewards).toHaveLength(1);
        }
      });
      // Each request judged once, in the run's steps: the retries attached.
      expect((await handle.query(progressQuery)).totals.rollouts).toBe(3);
      await handle.terminate('test over');
    });
  }, 120_000);
});
