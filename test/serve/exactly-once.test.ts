import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLayout } from '../../src/contract/run-layout';
import type { RewardRecord } from '../../src/contract/reward-record';
import { MAX_LINE_BYTES } from '../../src/io/read-lines';
import { cancelUpdate, pauseUpdate, progressQuery, resumeUpdate, submitRolloutsUpdate } from '../../workflows/definitions';
import { maybeRecordHistory } from '../helpers/histories';
import { startFakeBedrock } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, useFakeBedrockEnv } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';

// Issue 16: one right reward per rollout through `arbiter serve`, under concurrency, retries,
// restarts and continue-as-new. Each case below failed on the service that numbered steps and
// kept idempotency in its own memory.

async function rewardRecords(outputDir: string, runId: string): Promise<RewardRecord[]> {
  const layout = RunLayout.of(outputDir, runId);
  const dir = join(layout.runDir, 'steps');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.rewards.jsonl')).sort();
  const records: RewardRecord[] = [];
  for (const f of files) {
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) if (line.trim()) records.push(JSON.parse(line) as RewardRecord);
  }
  return records;
}

const good = (id: string) => rollout(id);
const empty = (id: string) => rollout(id, { response: '' });

describe('exactly once through arbiter serve', () => {
  it('case 1: two submissions of one step at once: each caller its own content, the other refused by name, nothing judged twice', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `once-race-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const [a, b] = await Promise.all([
          svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [good('r1')] }),
          svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [empty('r1')] }),
        ]);
        const statuses = [a.status, b.status].sort();
        expect(statuses).toEqual([200, 409]);
        const won = a.status === 200 ? a : b;
        const lost = a.status === 200 ? b : a;
        expect(lost.body.error).toMatch(/^(idempotency_key_reused|step_taken)$/);
        // The winner's reward is for its own text: the judge gives an empty answer less than a good one.
        const [record] = await rewardRecords(outputDir, runId);
        expect(record!.id).toBe('r1');
        expect(won.body.rewards[0].reward).toBe(record!.reward);
        const winnerSentEmpty = b.status === 200;
        expect(record!.responseChars).toBe(winnerSentEmpty ? 0 : good('r1').response.length);

        // Two identical sendings at once (a retry racing its original): one step, one reward, both answered alike.
        const [c, d] = await Promise.all([
          svc.post(`/v1/runs/${runId}/steps/2/rewards`, { rollouts: [good('s1'), empty('s2')] }),
          svc.post(`/v1/runs/${runId}/steps/2/rewards`, { rollouts: [good('s1'), empty('s2')] }),
        ]);
        expect([c.status, d.status]).toEqual([200, 200]);
        expect(c.body.rewards).toEqual(d.body.rewards);
        expect((await rewardRecords(outputDir, runId)).filter((r) => r.step === 2)).toHaveLength(2);

        // The same through the Temporal API: two identical submitRollouts for one step both get the rewards.
        const handle = client.workflow.getHandle(runId);
        const request = { step: 3, rollouts: [good('t1')] };
        const [e, f] = await Promise.all([
          handle.executeUpdate(submitRolloutsUpdate, { args: [request] }),
          handle.executeUpdate(submitRolloutsUpdate, { args: [request] }),
        ]);
        expect(e.rewards).toEqual(f.rewards);
        const progress = await handle.query(progressQuery);
        expect(progress.stepsDone).toBe(3);
        expect(progress.totals.rollouts).toBe(4);
        await handle.terminate('test over');
      });
    });
  });

  it('cases 3 and 5: a sample the worker would refuse is refused alone: its neighbours are scored, the run goes on, no step is skipped', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `once-refused-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const huge = rollout('big', { response: 'x'.repeat(MAX_LINE_BYTES + 10) });
        const rollouts = [...Array.from({ length: 11 }, (_, i) => good(`n${i}`)), huge];
        const res = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts, requestId: 'with-a-huge-one' });
        expect(res.status).toBe(200);
        expect(res.body.rewards).toHaveLength(12);
        for (const r of res.body.rewards.slice(0, 11)) expect(r).toMatchObject({ status: 'scored', reward: expect.any(Number) });
        expect(res.body.rewards[11]).toMatchObject({ id: 'big', reward: null, status: 'refused', reason: expect.stringContaining('too long') });

        // A retry: the same answer, nothing judged again.
        const again = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts, requestId: 'with-a-huge-one' });
        expect(again.body.rewards).toEqual(res.body.rewards);
        expect(again.body.replayed).toBe(true);

        // A request made only of refused samples is answered at once, with no step.
        const alone = await svc.post(`/openrlhf/${runId}`, { query: ['q' + 'y'.repeat(MAX_LINE_BYTES)], prompts: ['q'] });
        expect(alone.status).toBe(200);
        expect(alone.body.extra_logs.arbiter_refused).toEqual([1]);

        // The run never paused, and the next request is the next step number.
        const next = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [good('after')] });
        expect(next.status).toBe(200);
        expect(next.body.step).toBe(res.body.step + 1);
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.status).toBe('running');
        expect(progress.totals.rollouts).toBe(12);
        const records = await rewardRecords(outputDir, runId);
        expect(records).toHaveLength(12);
        expect(new Set(records.map((r) => r.step))).toEqual(new Set([res.body.step, next.body.step]));
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('cases 6 and 7: a used key or step with other content is refused, never answered with the other content’s rewards', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `once-reused-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const first = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [good('a')] });
        expect(first.status).toBe(200);
        const resent = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [empty('a')] });
        expect(resent.status).toBe(409);
        expect(resent.body.error).toBe('idempotency_key_reused');

        const keyed = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [good('k')], requestId: 'key-1' });
        expect(keyed.status).toBe(200);
        const reused = await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [empty('k')], requestId: 'key-1' });
        expect(reused.status).toBe(409);
        expect(reused.body).toMatchObject({ error: 'idempotency_key_reused', message: expect.stringContaining('key-1') });

        const nova = (answer: string) => [{ id: 'n1', messages: [{ role: 'user', content: 'What is 2 + 2?' }, { role: 'assistant', content: answer }] }];
        const headers = { 'idempotency-key': 'nova-1' };
        expect((await svc.post(`/nova/${runId}`, nova('It is 4, because 2 + 2 = 4.'), headers)).status).toBe(200);
        const novaReused = await svc.post(`/nova/${runId}`, nova(''), headers);
        expect(novaReused.status).toBe(409);
        expect(novaReused.body.error).toBe('idempotency_key_reused');

        // Long after, when the run keeps no answer of step 1 in memory: the ledger answers the same,
        // and still refuses other content.
        for (let i = 0; i < 6; i++) expect((await svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [good(`later-${i}`)] })).status).toBe(200);
        const late = await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [good('a')] });
        expect(late.status).toBe(200);
        expect(late.body.rewards).toEqual(first.body.rewards);
        expect(late.body.replayed).toBe(true);
        expect((await svc.post(`/v1/runs/${runId}/steps/1/rewards`, { rollouts: [empty('a')] })).body.error).toBe('idempotency_key_reused');
        const never = await svc.post(`/v1/runs/${runId}/steps/2/rewards`, { rollouts: [good('z')] });
        expect(never.status).toBe(409);
        expect(never.body.error).toBe('step_taken');

        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.totals.rollouts).toBe(9);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('case 8: a paused run judges nothing, not even the step it was waiting for, until resumed', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `once-paused-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const handle = client.workflow.getHandle(runId);
        await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'looking at the rubric' }] });
        // The step the run waits for arrives while paused (an explicit step 1), then a request.
        const explicit = handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, rollouts: [good('p1')] }] });
        let answered = false;
        const pending = svc.post(`/v1/runs/${runId}/rewards`, { rollouts: [good('p2')] }).then((r) => ((answered = true), r));
        await new Promise((r) => setTimeout(r, 2500));
        expect(answered).toBe(false);
        expect((await handle.query(progressQuery)).stepsDone).toBe(0);
        await handle.executeUpdate(resumeUpdate, { args: [{}] });
        expect((await explicit).step).toBe(1);
        const res = await pending;
        expect(res.status).toBe(200);
        expect(res.body.step).toBe(2);
        await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
        await handle.result();
        // Takes the `pause-holds-waiting-step` patch, trainer requests and an explicit step
        // (recorded with assembleStep activities; the second recording with `assemble-in-prepare`).
        await maybeRecordHistory('paused-requests-held-then-resumed', runId);
        await maybeRecordHistory('paused-requests-assembled-in-prepare', runId);
      });
    });
  });

  it('case 4: a retry after a service restart, while its step is being judged, attaches to it: one reward, one judge call', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    const fake = await startFakeBedrock({ seed: 4, latencyMs: 1500, respond: markerJudge('4') });
    const restoreEnv = useFakeBedrockEnv(fake.url);
    try {
      await withWorker(async ({ client, taskQueue }) => {
        const runId = `once-restart-${Date.now()}`;
        const options = { client, taskQueue, spillDir: join(dir, 'spill') };
        const config = {
          runId,
          steps: 10,
          rollouts: { type: 'updates' },
          outputDir,
          cache: false,
          judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'right', description: 'Gives the right number' }] } },
        };
        const request = { query: ['What is 2 + 2? It is 4.'], prompts: ['What is 2 + 2?'] };
        // The first service gets the request and is gone before it answers (its connections cut);
        // the trainer's retry reaches a second service that knows nothing of it.
        const answer = await withService(options, async (first) => {
          expect((await first.post('/v1/runs', config)).status).toBe(201);
          const lost = first.post(`/openrlhf/${runId}`, request).catch((err: unknown) => err);
          await new Promise((r) => setTimeout(r, 700));
          first.app.server.closeAllConnections();
          expect(await lost).toBeInstanceOf(Error);
          expect((await client.workflow.getHandle(runId).query(progressQuery)).stepsDone).toBe(0);
          return withService(options, (second) => second.post(`/openrlhf/${runId}`, request));
        });
        expect(answer.status).toBe(200);
        expect(answer.body.arbiter.step).toBe(1);
        const records = await rewardRecords(outputDir, runId);
        expect(records).toHaveLength(1);
        expect(answer.body.rewards[0]).toBe(records[0]!.reward);
        expect(fake.stats.ok).toBe(1);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    } finally {
      restoreEnv();
      await fake.close();
    }
  });
});
