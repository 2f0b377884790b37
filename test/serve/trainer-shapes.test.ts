import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RolloutSchema } from '../../src/config/rollout';
import { RunLayout } from '../../src/contract/run-layout';
import { pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions';
import { withServedRuns, withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { rollout, tempDir } from '../support/fixtures';

const good = rollout('x');
/** OpenRLHF's chat template around a prompt: the query is this plus the response, decoded together. */
const templated = (q: string) => `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n`;

async function staged(outputDir: string, runId: string, step: number) {
  const text = await readFile(RunLayout.of(outputDir, runId).requestsInbox(step), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

describe('arbiter serve, the shapes trainers already speak', () => {
  it('OpenRLHF remote RM: a run started by its first request (Update-with-Start), answered field by field', async () => {
    await withServedRuns(async ({ client, svc, outputDir }) => {
      const runId = `serve-openrlhf-${Date.now()}`;
      const prompts = [templated(good.prompt), templated(good.prompt)];
      const responses = [`${good.response}<|im_end|>`, '<|im_end|>'];
      // Exactly what remote_rm_fn posts: {"query": queries, "prompts": prompts, "labels": labels}.
      const request = { query: prompts.map((p, i) => p + responses[i]), prompts, labels: [good.reference, good.reference] };
      const res = await svc.post(`/openrlhf/${runId}`, request); // Content-Type: application/json, as requests sends it
      expect(res.status).toBe(200);
      const body = res.body;
      expect(Object.keys(body).sort()).toEqual(['arbiter', 'extra_logs', 'rewards', 'scores']);
      expect(body.rewards).toHaveLength(2);
      for (const r of body.rewards) expect(typeof r).toBe('number');
      expect(body.scores).toEqual(body.rewards);
      expect(body.rewards[0]).toBeGreaterThan(body.rewards[1]);
      // Every number a float on the wire: OpenRLHF makes tensors of these lists with no dtype.
      expect(res.text).toContain('"arbiter_step":[1.0,1.0]');
      expect(res.text).toContain('"arbiter_fallback":[0.0,0.0]');
      expect(res.text).not.toMatch(/[:\[,]-?\d+[,\]}]/);
      expect(body.extra_logs).toEqual({
        arbiter_step: [1, 1],
        arbiter_scored: [1, 1],
        arbiter_fallback: [0, 0],
        arbiter_excluded: [0, 0],
        arbiter_refused: [0, 0],
      });
      expect(body.arbiter).toEqual({ step: 1, status: ['scored', 'scored'], flags: [expect.any(Array), expect.any(Array)], reasons: [null, null] });

      // The response is the query after its prompt, without its end-of-turn token (an empty
      // generation is empty, not the text <|im_end|>); the prompt is read through its template.
      const lines = await staged(outputDir, runId, 1);
      expect(lines.map((l) => [l.prompt, l.response, l.reference])).toEqual([
        [good.prompt, good.response, good.reference],
        [good.prompt, '', good.reference],
      ]);

      // Mismatched lists are named, not guessed at.
      const bad = await svc.post(`/openrlhf/${runId}`, { query: ['a', 'b'], prompts: ['a'] });
      expect(bad.status).toBe(422);
      expect(bad.body.message).toMatch(/body\/prompts has 1 items for 2 queries/);
      const missing = await svc.post(`/openrlhf/${runId}`, { prompts: ['a'] });
      expect(missing.status).toBe(422);
      expect(missing.body.message).toMatch(/query/);
      // An empty shard (OpenRLHF before 0.11 with several reward URLs): empty lists back, the run untouched.
      const before = await client.workflow.getHandle(runId).query(progressQuery);
      const empty = await svc.post(`/openrlhf/${runId}`, { query: [], prompts: [], labels: [] });
      expect(empty.status).toBe(200);
      expect(empty.body).toMatchObject({ rewards: [], scores: [], extra_logs: { arbiter_step: [], arbiter_scored: [] } });
      expect((await client.workflow.getHandle(runId).query(progressQuery)).totals.rollouts).toBe(before.totals.rollouts);
      await client.workflow.getHandle(runId).terminate('test over');
    });
  });

  it('16 concurrent single-sample OpenRLHF requests share a few steps, each caller gets its own reward, and a retry judges nothing again', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      const runId = `serve-batch-${Date.now()}`;
      const options = { client, taskQueue, spillDir: join(dir, 'spill'), batching: { windowMs: 200 } };
      const requestOf = (i: number) => {
        const prompt = templated(`${good.prompt} (#${i})`);
        return { query: [prompt + (i % 2 === 0 ? `${good.response} [${i}]` : '')], prompts: [prompt], labels: [good.reference] };
      };
      const first = await withService(options, async (svc) => {
        expect((await svc.post('/v1/runs', { runId, steps: 1000, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => svc.post(`/openrlhf/${runId}`, requestOf(i))));
        for (const a of answers) expect(a.status).toBe(200);
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.totals.rollouts).toBe(16);
        expect(progress.stepsDone).toBeLessThanOrEqual(4); // one submission per window, not one per request
        // Each caller its own: good answers (even) above empty ones (odd), and the step it was scored in.
        for (let i = 0; i < 16; i += 2) expect(answers[i]!.body.rewards[0]).toBeGreaterThan(answers[i + 1]!.body.rewards[0]);
        const steps = new Set(answers.map((a) => a.body.arbiter.step));
        expect(steps.size).toBe(progress.stepsDone);

        // The same request again (OpenRLHF retries on a timeout): the same answer, nothing judged.
        const again = await svc.post(`/openrlhf/${runId}`, requestOf(3));
        expect(again.body).toEqual(answers[3]!.body);
        const after = await client.workflow.getHandle(runId).query(progressQuery);
        expect(after.totals.rollouts).toBe(16);
        expect(after.stepsDone).toBe(progress.stepsDone);
        return answers;
      });

      // A restarted service knows nothing in memory: the run finds the request in its ledger.
      await withService(options, async (svc) => {
        const retried = await svc.post(`/openrlhf/${runId}`, requestOf(4));
        expect(retried.body).toEqual(first[4]!.body);
        const progress = await client.workflow.getHandle(runId).query(progressQuery);
        expect(progress.totals.rollouts).toBe(16);
      });
      await client.workflow.getHandle(runId).terminate('test over');
    });
  });

  it('Nova RFT reward Lambda: a list of samples in, a list of scores with metrics out, field by field', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `serve-nova-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir })).status).toBe(201);
        const reference_answer = { compliant: 'No', explanation: good.reference };
        // As the Nova RFT container sends it: the dataset sample, the generated assistant turn appended, an id added.
        // n-1 as Bedrock's reward Lambda event has it (the reference under metadata), n-2 as SageMaker's docs show it.
        const samples = [
          { id: 'n-1', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: good.prompt }, { role: 'assistant', content: good.response }], metadata: { reference_answer, my_key: 'x' } },
          { id: 'n-2', messages: [{ role: 'user', content: good.prompt }, { role: 'assistant', content: '' }], reference_answer },
        ];
        const res = await svc.post(`/nova/${runId}`, samples);
        expect(res.status).toBe(200);
        expect(Array.isArray(res.body)).toBe(true);
        expect(res.body.map((r: { id: string }) => r.id)).toEqual(['n-1', 'n-2']);
        for (const r of res.body) {
          expect(Object.keys(r).sort()).toEqual(['aggregate_reward_score', 'id', 'metrics_list']);
          expect(typeof r.aggregate_reward_score).toBe('number');
          for (const m of r.metrics_list) expect(m).toEqual({ name: expect.any(String), value: expect.any(Number), type: 'Metric' });
          const names = r.metrics_list.map((m: { name: string }) => m.name);
          expect(names).toEqual(expect.arrayContaining(['judge', 'arbiter_scored', 'arbiter_fallback', 'arbiter_excluded', 'arbiter_step']));
        }
        expect(res.body[0].aggregate_reward_score).toBeGreaterThan(res.body[1].aggregate_reward_score);
        expect(res.text).toMatch(/"name":"arbiter_scored","value":1\.0/);
        // Each sample travels as its trajectory: the prompt is the turns before the last assistant
        // turn (the system one kept), the response that turn, the reference the answer as JSON from either place.
        const lines = (await staged(outputDir, runId, 1)).map((l) => RolloutSchema.parse(l));
        expect(lines[0]!.messages).toEqual(samples[0]!.messages);
        expect(lines[0]).toMatchObject({ prompt: `System: Be brief.\n\nUser: ${good.prompt}`, response: good.response, reference: JSON.stringify(reference_answer) });
        expect(lines[1]).toMatchObject({ prompt: good.prompt, response: '', reference: JSON.stringify(reference_answer) });

        const bad = await svc.post(`/nova/${runId}`, [{ id: 'n-3' }]);
        expect(bad.status).toBe(422);
        expect(bad.body.message).toMatch(/messages/);
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });
});

describe('the Nova reward Lambda handler module', () => {
  it('forwards the payload to the service with the token and returns its answer unchanged', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), token: 'tok' }, async (svc) => {
        const runId = `serve-lambda-${Date.now()}`;
        const created = await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') }, { authorization: 'Bearer tok' });
        expect(created.status).toBe(201);
        const samples = [{ id: 'l-1', messages: [{ role: 'user', content: good.prompt }, { role: 'assistant', content: good.response }], reference_answer: good.reference }];
        const saved = { ...process.env };
        Object.assign(process.env, { ARBITER_SERVE_URL: svc.url, ARBITER_RUN_ID: runId, ARBITER_SERVE_TOKEN: 'tok' });
        try {
          const { handler } = await import('../../src/serve/nova-lambda');
          const answer = (await handler(samples)) as Array<{ id: string; aggregate_reward_score: number }>;
          expect(answer).toEqual((await svc.post(`/nova/${runId}`, samples, { authorization: 'Bearer tok' })).body);
          expect(answer[0]!.id).toBe('l-1');
          process.env.ARBITER_SERVE_TOKEN = 'wrong';
          await expect(handler(samples)).rejects.toThrow(/answered 401: .*wrong bearer token/);
        } finally {
          process.env = saved;
        }
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });

  it('sends a retryable 503 (not answered in time) again while the Lambda has time left, and the retry attaches to the same work', async () => {
    const dir = await tempDir();
    await withWorker(async ({ client, taskQueue }) => {
      // Answers due within 1 ms, and the run paused: the first sending is always told 503 not_ready.
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), batching: { answerTimeoutMs: 1 } }, async (svc) => {
        const runId = `serve-lambda-retry-${Date.now()}`;
        expect((await svc.post('/v1/runs', { runId, steps: 10, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') })).status).toBe(201);
        const run = client.workflow.getHandle(runId);
        await run.executeUpdate(pauseUpdate, { args: [{ reason: 'held for the test' }] });
        const samples = [{ id: 'r-1', messages: [{ role: 'user', content: good.prompt }, { role: 'assistant', content: good.response }] }];
        const saved = { ...process.env };
        Object.assign(process.env, { ARBITER_SERVE_URL: svc.url, ARBITER_RUN_ID: runId });
        delete process.env.ARBITER_SERVE_TOKEN;
        try {
          const { handler } = await import('../../src/serve/nova-lambda');
          // Without time left (no context: 0 ms), the 503 is the Lambda's error.
          await expect(handler(samples)).rejects.toThrow(/answered 503: .*not_ready/);
          await run.executeUpdate(resumeUpdate, { args: [{}] });
          const answer = (await handler(samples, { getRemainingTimeInMillis: () => 60_000 })) as Array<{ id: string; aggregate_reward_score: number }>;
          expect(answer[0]!.id).toBe('r-1');
          expect(typeof answer[0]!.aggregate_reward_score).toBe('number');
          // Every sending was one request in the run: judged once.
          expect((await client.workflow.getHandle(runId).query(progressQuery)).totals.rollouts).toBe(1);
        } finally {
          process.env = saved;
        }
        await client.workflow.getHandle(runId).terminate('test over');
      });
    });
  });
});
