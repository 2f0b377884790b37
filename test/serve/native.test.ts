import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import { progressQuery } from '../../workflows/definitions';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { rollout, tempDir } from '../support/fixtures';

const runConfig = (runId: string, outputDir: string) => ({ runId, steps: 100, rollouts: { type: 'updates' }, outputDir });

describe('arbiter serve, native API', () => {
  it('creates a run idempotently and scores a step: rewards with status, flags and breakdown, in the caller’s order', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `serve-native-${Date.now()}`;
        const created = await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')));
        expect({ status: created.status, body: created.body }).toEqual({ status: 201, body: { runId, created: true } });
        const again = await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')));
        expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { runId, created: false, status: 'RUNNING' } });

        const rollouts = [rollout('b'), rollout('a', { response: '' }), rollout('c', { group: 'g1' })];
        const res = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts });
        expect(res.status).toBe(200);
        expect(res.body.runId).toBe(runId);
        expect(res.body.step).toBe(1);
        expect(res.body.summary).toMatchObject({ step: 1, count: 3 });
        expect(res.body.rewards.map((r: { id: string }) => r.id)).toEqual(['b', 'a', 'c']);
        for (const r of res.body.rewards) {
          expect(r).toEqual({ id: expect.any(String), reward: expect.any(Number), status: 'scored', flags: expect.any(Array), breakdown: expect.any(Object) });
          expect(r.breakdown.judge).toEqual(expect.any(Number));
        }
        expect(res.body.rewards[0].reward).toBeGreaterThan(res.body.rewards[1].reward);

        // The same step again (a trainer's retry): the same rewards from the run's file, nothing judged again.
        const retry = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts });
        expect(retry.status).toBe(200);
        expect(retry.body.rewards).toEqual(res.body.rewards);
        expect(retry.body.replayed).toBe(true);
        // Other rollouts for a step already scored: a conflict, named, never the first step's rewards.
        const other = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [rollout('zz')] });
        expect(other.status).toBe(409);
        expect(other.body).toMatchObject({ error: 'idempotency_key_reused', message: expect.stringContaining('step:1') });
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.stepsDone).toBe(1);
        expect(progress.totals.rollouts).toBe(3);

        // Steps the service numbers itself: the next one of the run.
        const auto = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [rollout('x1'), rollout('x2')], requestId: 'req-1' });
        expect(auto.status).toBe(200);
        expect(auto.body.step).toBe(2);
        expect(auto.body.rewards.map((r: { id: string }) => r.id)).toEqual(['x1', 'x2']);
        const autoRetry = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [rollout('x1'), rollout('x2')], requestId: 'req-1' });
        expect(autoRetry.body.rewards).toEqual(auto.body.rewards);
        expect(autoRetry.body.replayed).toBe(true);
        expect((await client.workflow.getHandle(runId).query(progressQuery)).stepsDone).toBe(2);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('answers bad input with the right status and a body naming the problem, and keeps serving', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), bodyLimit: 64 * 1024 }, async (svc) => {
        const runId = `serve-bad-${Date.now()}`;
        expect((await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')))).status).toBe(201);
        const path = `/v1/runs/${runId}/steps/1/rewards`;

        const malformed = await svc.post(path, '{"rollouts": [');
        expect(malformed.status).toBe(400);
        expect(malformed.body).toMatchObject({ error: 'malformed_json', message: expect.stringMatching(/not valid JSON/) });

        const tooLarge = await svc.post(path, { rollouts: [rollout('big', { response: 'x'.repeat(100_000) })] });
        expect(tooLarge.status).toBe(413);
        expect(tooLarge.body).toMatchObject({ error: 'body_too_large', message: expect.stringMatching(/over 65536 bytes/) });

        const missing = await svc.post(path, { rollouts: [{ id: 'a', prompt: 'p' }] });
        expect(missing.status).toBe(422);
        expect(missing.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/rollouts\/0.*response/) });

        const repeated = await svc.post(path, { rollouts: [rollout('a'), rollout('a')] });
        expect(repeated.status).toBe(422);
        expect(repeated.body.message).toMatch(/rollouts\/1\/id: "a" repeats/);

        const unknown = await svc.post('/v1/runs/no-such-run/steps/1/rewards', { rollouts: [rollout('a')] });
        expect(unknown.status).toBe(404);
        expect(unknown.body).toMatchObject({ error: 'unknown_run', message: expect.stringMatching(/"no-such-run" is not running/) });

        const ahead = await svc.post(`/v1/runs/${runId}/steps/500/rewards`, { rollouts: [rollout('a')] });
        expect(ahead.status).toBe(409);
        expect(ahead.body.message).toMatch(/step 500 is not ahead/);

        const badConfig = await svc.post('/v1/runs', { runId: 'x-bad', steps: 0, rollouts: { type: 'updates' } });
        expect(badConfig.status).toBe(422);
        expect(badConfig.body.message).toMatch(/steps/);
        const directory = await svc.post('/v1/runs', { runId: 'x-dir', steps: 1, rollouts: { type: 'directory', path: dir } });
        expect(directory.status).toBe(422);
        expect(directory.body.message).toMatch(/rollouts.type/);

        // Still serving: a good request after all of that.
        const ok = await svc.post(path, { rollouts: [rollout('a')] });
        expect(ok.status).toBe(200);
        expect(ok.body.rewards).toHaveLength(1);
        expect((await svc.get('/healthz')).body).toEqual({ ok: true });
        expect((await svc.get('/readyz')).body).toEqual({ ok: true, temporal: 'reachable' });
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('checks the bearer token on every route but health', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), token: 's3cret' }, async (svc) => {
        const runId = `serve-token-${Date.now()}`;
        const none = await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')));
        expect(none.status).toBe(401);
        expect(none.body).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(/missing bearer token/) });
        const wrong = await svc.post('/openrlhf/x', { query: ['q'] }, { authorization: 'Bearer nope' });
        expect(wrong.status).toBe(401);
        expect(wrong.body.message).toBe('wrong bearer token');
        expect((await svc.get('/healthz')).status).toBe(200);
        const right = await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')), { authorization: 'Bearer s3cret' });
        expect(right.status).toBe(201);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  // A query per caller for its step's summary was a query per request (256 a round at 256 callers).
  it('asks the run for a step’s summary once, however many callers the step answers', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      const queries: string[] = [];
      const counting = new Client({
        connection: client.connection,
        dataConverter: arbiterDataConverter,
        interceptors: { workflow: [{ query: (input, next) => (queries.push(input.queryType), next(input)) }] },
      });
      await withService({ client: counting, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `serve-summaries-${Date.now()}`;
        expect((await svc.post('/v1/runs', runConfig(runId, join(dir, 'out')))).status).toBe(201);
        const answers = await Promise.all(
          Array.from({ length: 24 }, (_, i) => svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [rollout(`r${i}`)], requestId: `summaries-${i}` })),
        );
        const steps = new Set<number>();
        for (const a of answers) {
          expect(a.status).toBe(200);
          expect(a.body.summary).toMatchObject({ step: a.body.step });
          steps.add(a.body.step);
        }
        expect(queries.filter((q) => q === 'stepSummary')).toHaveLength(steps.size);
        await counting.workflow.getHandle(runId).terminate('test over');
      });
    });
  });
});

