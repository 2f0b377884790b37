import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { progressQuery, submitRolloutsUpdate } from '../../workflows/definitions';
import { rollout, tempDir, writeSteps } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { rftRun } from '../../workflows/rft-run';

/** A local OpenAI-compatible judge that passes every criterion, counting the calls it gets. */
let judge: Server;
let judgeUrl: string;
let calls = 0;
beforeAll(async () => {
  judge = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      const content = JSON.stringify({ criteria: [{ id: 'flags_risk', pass: true, evidence: 'it does' }], rationale: 'flags the risk' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5 } }));
    });
  });
  await new Promise<void>((resolve) => judge.listen(0, '127.0.0.1', resolve));
  judgeUrl = `http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => judge.close(() => resolve())));

const rubric = { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] };

/** The innermost message of a failed run: what the user is told. */
const failureOf = (run: Promise<unknown>) =>
  run.then(
    () => 'completed',
    (err: unknown) => {
      let e = err as Error;
      while (e.cause instanceof Error) e = e.cause;
      return e.message;
    },
  );

/** A refused run pauses (fix the worker's settings, restart it, resume): its reason is what the user is told. */
async function pausedReason(client: Client, taskQueue: string, workflowId: string, args: unknown): Promise<string> {
  const handle = await client.workflow.start(rftRun, { taskQueue, workflowId, args: [args as never] });
  const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
  await handle.terminate('test over');
  return paused.reason ?? '';
}

describe("the worker's settings decide which judge endpoints and rollout folders a run may use", () => {
  it('an openai-compatible judge: an allowed endpoint judges, a disallowed one pauses the run with the URL and the variable', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 1, 3);
    const config = (outputDir: string) => ({
      steps: 1,
      rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
      judge: { provider: 'openai-compatible' as const, baseUrl: judgeUrl, model: 'local', rubric },
      outputDir: join(dir, outputDir),
      cache: false,
    });

    await withWorker(async ({ client, taskQueue }) => {
      const result = await client.workflow.execute(rftRun, { taskQueue, workflowId: `judge-allowed-${Date.now()}`, args: [config('a')] });
      expect(result).toMatchObject({ status: 'completed', totals: { rollouts: 3, fallbacks: 0 } });
    }, { settings: { allowedJudgeUrls: [judgeUrl], allowedRolloutDirs: [dir] } });
    expect(calls).toBe(3);

    // The same server, but this worker allows only another endpoint: nothing is sent to it.
    await withWorker(async ({ client, taskQueue }) => {
      const message = await pausedReason(client, taskQueue, `judge-refused-${Date.now()}`, config('b'));
      expect(message).toContain(`judge.baseUrl ${judgeUrl} is not allowed by this worker`);
      expect(message).toContain('ARBITER_ALLOWED_JUDGE_URLS');
    }, { settings: { allowedJudgeUrls: ['https://judge.example.com/v1'], allowedRolloutDirs: [dir] } });
    expect(calls).toBe(3);
  });

  it('submitRollouts by path: a file in an allowed folder is scored, one outside (or reached by ..) is refused unread', async () => {
    const dir = await tempDir();
    const shared = join(dir, 'shared');
    const secrets = join(dir, 'secrets');
    await mkdir(shared);
    await mkdir(secrets);
    await writeFile(join(shared, 'step-1.jsonl'), JSON.stringify(rollout('a')) + '\n');
    await writeFile(join(secrets, 'credentials'), 'aws_secret_access_key = SECRET-IN-A-FILE\n');
    const outputDir = join(dir, 'out');

    await withWorker(async ({ client, taskQueue }) => {
      const workflowId = `path-${Date.now()}`;
      const handle = await client.workflow.start(rftRun, { taskQueue, workflowId, args: [{ steps: 2, rollouts: { type: 'updates' as const }, outputDir }] });
      const first = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, path: join(shared, 'step-1.jsonl') }] });
      expect(first.summary.count).toBe(1);

      const escape = join(shared, '..', 'secrets', 'credentials');
      // The trainer hears why at once; the run pauses with the same reason.
      const message = await failureOf(handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 2, path: escape }] }));
      expect((await handle.query(progressQuery)).reason).toContain(message);
      expect(message).toContain(`rollout file ${escape} is outside the folders this worker reads rollouts from`);
      expect(message).toContain('ARBITER_ALLOWED_ROLLOUT_DIRS');
      // The file was never read: nothing of it is quarantined.
      expect(await readdir(join(outputDir, workflowId, 'steps'))).not.toContain('000002.quarantine.jsonl');
      await handle.terminate('test over');
    }, { settings: { allowedJudgeUrls: ['loopback'], allowedRolloutDirs: [shared] } });
  });

  it('a rollouts folder outside the allowed ones pauses the run at once instead of waiting for files', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'elsewhere'), 1, 2);
    await withWorker(async ({ client, taskQueue }) => {
      const message = await pausedReason(client, taskQueue, `folder-refused-${Date.now()}`, {
        steps: 1,
        rollouts: { type: 'directory' as const, path: join(dir, 'elsewhere') },
        outputDir: join(dir, 'out'),
      });
      expect(message).toContain(`rollout folder ${join(dir, 'elsewhere')} is outside the folders`);
      expect(message).toContain('ARBITER_ALLOWED_ROLLOUT_DIRS');
    }, { settings: { allowedJudgeUrls: ['loopback'], allowedRolloutDirs: [join(dir, 'allowed')] } });
  });
});
