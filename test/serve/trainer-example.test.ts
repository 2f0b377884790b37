import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { killChildren, spawnWorker, type Child } from '../helpers/processes';
import { installPythonForTests, PYTHON, runFile } from '../helpers/python';
import { readManifestLines, readRunRecords } from '../helpers/run-records';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { tempDir } from '../support/fixtures';
import { startFakeBedrock } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, useFakeBedrockEnv } from '../support/fake-bedrock-env';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

const TRAIN = fileURLToPath(new URL('../../examples/trainer/train.py', import.meta.url));

const STEPS = 12;
const GROUP = 8;
const PROMPTS = ['c0', 'c1', 'c2', 'c5'];

/** Curves of the runs without crashes, by seed: a crash must change no reward, so no curve. */
const curves = new Map<number, number[]>();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// The package installed as users install it (pip install ./clients/python), in .tools/pyenv.
beforeAll(installPythonForTests, 180_000);

afterAll(async () => {
  await killChildren();
});

describe('examples/trainer/train.py against arbiter serve (offline judge)', () => {
  // The offline judge is deterministic, so each seed gives the same curve every time; seeds 0-19
  // all clear the margin by at least 0.29 (lr 3, group 8, 12 steps).
  it.each([0, 1, 2])('a softmax policy trained by REINFORCE on the service rewards really learns (seed %i)', async (seed) => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    await withWorker(async ({ client, taskQueue }) => {
      await withService({ client, taskQueue, spillDir: join(dir, 'spill') }, async (svc) => {
        const runId = `trainer-example-${seed}-${Date.now()}`;
        const args = [TRAIN, '--url', svc.url, '--run-id', runId, '--steps', String(STEPS), '--group-size', String(GROUP), '--seed', String(seed), '--output-dir', outputDir];
        const { stdout } = await runFile(PYTHON, args, { cwd: dir });
        const lines = stdout.trim().split('\n');
        const curve = (JSON.parse(lines.at(-1)!) as { curve: number[] }).curve;
        console.log(`trainer-example seed ${seed}:\n${lines.slice(0, -1).join('\n')}\ncurve ${JSON.stringify(curve)}`);

        curves.set(seed, curve);
        expect(curve).toHaveLength(STEPS);
        expect(lines.filter((l) => /^step \d+ {2}mean reward \d\.\d{3}$/.test(l))).toHaveLength(STEPS);
        // It learns: the last three steps beat the first three by a clear margin.
        expect(mean(curve.slice(-3)) - mean(curve.slice(0, 3))).toBeGreaterThan(0.15);

        // Exactly one reward per rollout sent, and one run step per trainer step.
        const { manifest, records } = await readRunRecords(join(outputDir, runId));
        // Merged requests' rollouts carry `<requestId>~<index>` as their id in the run's files.
        expect(records).toHaveLength(STEPS * PROMPTS.length * GROUP);
        expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
        for (let step = 1; step <= STEPS; step++) {
          const ids = records.filter((r) => r.step === step).map((r) => r.id);
          const keys = new Set(ids.map((id) => id.slice(0, id.lastIndexOf('~'))));
          expect(keys.size).toBe(1); // one request, one step
          expect(ids.map((id) => Number(id.slice(id.lastIndexOf('~') + 1))).sort((a, b) => a - b)).toEqual(
            Array.from({ length: PROMPTS.length * GROUP }, (_, i) => i),
          );
        }
        expect(manifest.map((m) => m.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
        // The run was created for STEPS steps and ends after the trainer's last one.
        await client.workflow.getHandle(runId).result();
        const end = (await readManifestLines(join(outputDir, runId))).at(-1);
        expect(end.end).toMatchObject({ status: 'completed', stepsDone: STEPS });
      });
    });
  });
});

describe('examples/trainer/train.py against arbiter serve with a Bedrock judge (real AWS SDK, fake Bedrock)', () => {
  it('learns from the verdicts the judge scripts; every rollout gets one reward, each non-empty answer from one Bedrock call', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    // The judge passes what flags the clause's risk ("High risk: ...", "Medium risk: ..."), as a
    // real judge with this rubric would, and fails the rest; the trainer never sees that rule.
    const fake = await startFakeBedrock({ seed: 10, latencyMs: [5, 20], respond: markerJudge('risk:') });
    // Before the worker exists: its Bedrock judge reads the AWS variables of this process.
    const restoreEnv = useFakeBedrockEnv(fake.url);
    try {
      await withWorker(async ({ client, taskQueue }) => {
        const runTemplate = {
          steps: STEPS,
          rollouts: { type: 'updates' as const },
          outputDir,
          judge: {
            provider: 'bedrock' as const,
            model: TEST_MODEL,
            rubric: { criteria: [{ id: 'flags_risk', description: 'Names the risk the clause puts on the customer and why' }] },
            quota: { requestsPerMinute: 6000, maxInFlight: 32 },
          },
          // Every rollout a call: the same answers come back step after step.
          cache: false,
        };
        await withService({ client, taskQueue, spillDir: join(dir, 'spill'), runTemplate }, async (svc) => {
          const runId = `trainer-bedrock-${Date.now()}`;
          const args = [TRAIN, '--url', svc.url, '--run-id', runId, '--steps', String(STEPS), '--group-size', String(GROUP), '--seed', '0', '--no-create'];
          const { stdout } = await runFile(PYTHON, args, { cwd: dir });
          const lines = stdout.trim().split('\n');
          const curve = (JSON.parse(lines.at(-1)!) as { curve: number[] }).curve;
          console.log(`trainer-example with the fake Bedrock: curve ${JSON.stringify(curve)}`);
          expect(curve).toHaveLength(STEPS);
          expect(mean(curve.slice(-3)) - mean(curve.slice(0, 3))).toBeGreaterThan(0.15);

          await client.workflow.getHandle(runId).result();
          const { manifest, records } = await readRunRecords(join(outputDir, runId));
          expect(manifest.map((m) => m.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
          expect(records).toHaveLength(STEPS * PROMPTS.length * GROUP);
          expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
          for (const r of records) {
            expect(r.status).toBe('scored');
            expect(r.judge).toMatchObject({ provider: 'bedrock', model: TEST_MODEL });
          }
          // Each reward of a non-empty answer came from its own call through the SDK, none judged
          // twice; an empty answer fails every criterion without a call (attempts 0).
          const called = records.filter((r) => r.judge.attempts > 0);
          expect(called.every((r) => r.judge.attempts === 1)).toBe(true);
          expect(called.length).toBeGreaterThan(records.length / 2);
          expect(fake.stats.ok).toBe(called.length);
          expect(fake.stats.requests).toBe(called.length);
        });
      });
    } finally {
      restoreEnv();
      await fake.close();
    }
  }, 120_000);
});

describe('examples/trainer/train.py while its worker is SIGKILLed', () => {
  /** The worker dies right after the trainer reports these steps: its next request is on its way. */
  const KILL_AFTER_STEPS = [3, 7];

  it('the trainer\'s requests still return across two worker crashes, every rollout has exactly one reward, and it still learns', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    const taskQueue = `trainer-crash-${Date.now()}`;
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), ARBITER_TASK_QUEUE: taskQueue };
    const connection = await connectSafely({ address: inject('temporalAddress') });
    const client = new Client({ connection, dataConverter: arbiterDataConverter });
    let worker = spawnWorker(workerEnv);
    const workers: Child[] = [worker];
    const runId = `trainer-crash-${Date.now()}`;
    try {
      await worker.ready;
      // The service starts the run (--no-create), with a 2 s heartbeat so a dead worker's activity moves on quickly.
      const runTemplate = {
        steps: STEPS,
        rollouts: { type: 'updates' as const },
        outputDir,
        scoring: { heartbeatSeconds: 2, initialIntervalSeconds: 1, maximumIntervalSeconds: 2 },
      };
      await withService({ client, taskQueue, spillDir: join(dir, 'spill'), runTemplate }, async (svc) => {
        const trainer = spawn(PYTHON, [TRAIN, '--url', svc.url, '--run-id', runId, '--steps', String(STEPS), '--group-size', String(GROUP), '--seed', '0', '--no-create'], {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        const kills: number[] = [];
        let restarting: Promise<void> = Promise.resolve();
        trainer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        trainer.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
          const done = [...stdout.matchAll(/^step (\d+) /gm)].map((m) => Number(m[1]));
          const next = KILL_AFTER_STEPS[kills.length];
          if (next === undefined || !done.includes(next)) return;
          kills.push(next);
          const dying = worker;
          dying.process.kill('SIGKILL');
          restarting = restarting.then(async () => {
            expect((await dying.exited).signal).toBe('SIGKILL');
            worker = spawnWorker(workerEnv);
            workers.push(worker);
            await worker.ready;
          });
        });
        const code = await new Promise<number | null>((resolve) => trainer.once('exit', resolve));
        await restarting;
        expect(code, `trainer failed:\n${stderr}`).toBe(0);
        expect(kills).toEqual(KILL_AFTER_STEPS);

        const lines = stdout.trim().split('\n');
        const curve = (JSON.parse(lines.at(-1)!) as { curve: number[] }).curve;
        console.log(`trainer-example across worker crashes after steps ${kills.join(', ')}: curve ${JSON.stringify(curve)}`);
        expect(curve).toHaveLength(STEPS);
        expect(mean(curve.slice(-3)) - mean(curve.slice(0, 3))).toBeGreaterThan(0.15);
        // Same seed, deterministic judge: the same curve as without crashes (when that test ran too).
        if (curves.has(0)) expect(curve).toEqual(curves.get(0));

        await client.workflow.getHandle(runId).result();
        const { manifest, records } = await readRunRecords(join(outputDir, runId));
        expect(manifest.map((m) => m.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
        expect(records).toHaveLength(STEPS * PROMPTS.length * GROUP);
        expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
        expect(records.filter((r) => r.status !== 'scored')).toEqual([]);
      });
    } catch (err) {
      for (const w of workers) console.log(`--- ${w.name} output ---\n${w.output().slice(-4000)}`);
      throw err;
    } finally {
      await killChildren();
      await client.workflow.getHandle(runId).terminate('trainer-crash test cleanup').catch(() => {});
      await connection.close();
    }
  }, 240_000);
});
