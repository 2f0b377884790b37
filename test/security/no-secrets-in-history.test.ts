import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { startFakeBedrock, type FakeBedrock } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { markReady, rollout, tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { TEST_WORKER_ENV } from '../helpers/worker-settings';
import { waitFor } from '../helpers/wait-for';
import { runReviewQuery } from '../../workflows/run-review';
import { rftRun } from '../../workflows/rft-run';
import { arbiterDataConverter, decompressed, isCompressed } from '../../src/temporal/payload-compression';
import type { Payload } from '@temporalio/common';

const SECRET_KEY = `wJalrXUtnFEMI/K7MDENG/${randomUUID()}`;
const ACCESS_KEY = 'AKIAARBITERTESTKEY01';
const SESSION_TOKEN = `session-${randomUUID()}`;

let fake: FakeBedrock;
let worker: ChildProcess | undefined;
let logs = '';

beforeAll(async () => {
  fake = await startFakeBedrock({ seed: 9, respond: markerJudge('leaving no continuity') });
});
afterAll(async () => {
  worker?.kill('SIGKILL');
  await fake.close();
});

/** Every string in a history: payload bytes decoded, so nothing hides in base64, protobuf or compression. */
function strings(value: unknown, out: string[] = []): string[] {
  if (isPayload(value) && isCompressed(value)) return strings(decompressed(value), out);
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && 'metadata' in value && 'data' in value;
}

describe('security', () => {
  it('keeps credentials, secrets and rollout text of a large batch out of history and logs', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    const taskQueue = `security-${randomUUID()}`;
    // A batch of 300 rollouts, each with a unique marker in its text.
    const markers = Array.from({ length: 300 }, (_, i) => `MARKER-${i}-${randomUUID()}`);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(rolloutsDir, { recursive: true });
    await writeFile(
      stepRolloutFile(rolloutsDir, 1),
      markers.map((m, i) => JSON.stringify(rollout(`r${i}`, { prompt: `Clause ${m}`, response: `High risk ${m}, leaving no continuity` }))).join('\n') + '\n',
    );
    await markReady(rolloutsDir, 1);

    worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
      env: {
        ...process.env,
        ...TEST_WORKER_ENV,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        ARBITER_TASK_QUEUE: taskQueue,
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_SESSION_TOKEN: SESSION_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (logs += d.toString()));

    const connection = await connectSafely({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection, dataConverter: arbiterDataConverter });
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `security-${Date.now()}`,
        args: [{
          steps: 1,
          rollouts: { type: 'directory', path: rolloutsDir },
          judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] }, quota: { requestsPerMinute: 60_000 } },
          outputDir: join(dir, 'out'),
          chunkSize: 50,
          cache: false,
        }],
      });
      const result = await handle.result();
      expect(result.totals.rollouts).toBe(300);
      expect(fake.stats.requests).toBe(300);

      const text = strings(await handle.fetchHistory()).join('\n');
      expect(text).toContain('rftRun');
      for (const secret of [SECRET_KEY, ACCESS_KEY, SESSION_TOKEN]) {
        expect(text.includes(secret), 'a credential is in the history').toBe(false);
        expect(logs.includes(secret), 'a credential is in the worker logs').toBe(false);
      }
      const leaked = markers.filter((m) => text.includes(m));
      expect(leaked, 'rollout text of the batch is in the history').toEqual([]);
      expect(logs).toContain('polling task queue');
    } finally {
      await connection.close();
    }
  }, 180_000);

  it('keeps rollout text out of the histories of a run with review on and of its review workflow', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(rolloutsDir, { recursive: true });
    const markers: string[] = [];
    for (const step of [1, 2]) {
      const lines = Array.from({ length: 6 }, (_, i) => {
        const [p, r, ref] = ['P', 'R', 'F'].map((k) => `${k}MARK-${step}-${i}-${randomUUID()}`);
        markers.push(p!, r!, ref!);
        return JSON.stringify(rollout(`s${step}-${i}`, { prompt: `Clause ${p}`, response: `High risk ${r}, leaving no continuity`, reference: `Risky ${ref}` }));
      });
      await writeFile(stepRolloutFile(rolloutsDir, step), lines.join('\n') + '\n');
      await markReady(rolloutsDir, step);
    }
    const workflowId = `security-review-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 2, rollouts: { type: 'directory', path: rolloutsDir }, outputDir: join(dir, 'out'), review: { everySteps: 1, samples: 3 } }],
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 2 });
      const histories = [await handle.fetchHistory()];
      const review = client.workflow.getHandle(`${workflowId}-review`);
      // The review is in use: both steps' items are there to answer.
      const state = await waitFor(() => review.query(runReviewQuery), (s) => s.steps.length === 2);
      for (const [i, step] of [1, 2].entries()) {
        const items = state.steps[i]!.items;
        expect(items).toHaveLength(3);
        expect(items.map((item) => item.rolloutId).every((id) => id.startsWith(`s${step}-`))).toBe(true);
      }
      histories.push(await review.fetchHistory());
      await review.terminate('test over');
      const text = histories.map((h) => strings(h).join('\n')).join('\n');
      expect(text).toContain('runReview');
      const leaked = markers.filter((m) => text.includes(m));
      expect(leaked, 'rollout text is in the run or review histories').toEqual([]);
    });
  }, 120_000);
});
