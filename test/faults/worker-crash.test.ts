import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { joinLocation } from '../../src/storage/location';
import { submitRolloutsUpdate } from '../../workflows/definitions';
import { startFakeBedrock, type FakeBedrock, type FakeCall } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { tempDir, writeSteps } from '../support/fixtures';
import { killChildren, retriedActivities, spawnWorker, type Child } from '../helpers/processes';
import { readRunRecords } from '../helpers/run-records';
import { rftRun } from '../../workflows/rft-run';
import { CallsPerRollout } from '../support/calls-per-rollout';
import { startS3Server, type S3Server } from '../helpers/s3-server';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

const GOOD = 'leaving no continuity'; // in the fixtures' good answers only
const rubric = { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky for the customer' }] };

const STEPS = 3;
const PER_STEP = 40;
const CHUNK_SIZE = 10;
const MAX_IN_FLIGHT = 3;
/** The worker is SIGKILLed when the fake receives these (1-based) requests: mid-chunk, calls in flight. */
const KILL_AT_REQUEST = [20, 60, 95];

/** Judge calls per rollout id (the `[sN-rM]` tag writeSteps puts in every response). */
const callsById = new CallsPerRollout();
/** Judge calls that showed the judge a trajectory block (rollouts given as messages). */
let trajectoryCalls = 0;
function countCall(call: FakeCall): void {
  callsById.count(call);
  if (userText(call).includes('<<<ROLLOUT_TRAJECTORY_')) trajectoryCalls++;
}

let fake: FakeBedrock;
let s3: S3Server;
let undoS3Env: () => void;
let connection: Connection;
let onCall: (call: FakeCall) => void = () => {};

beforeAll(async () => {
  const judge = markerJudge(GOOD);
  fake = await startFakeBedrock({
    seed: 21,
    latencyMs: [150, 250],
    respond: (call) => {
      countCall(call);
      onCall(call);
      return judge(call);
    },
  });
  connection = await connectSafely({ address: inject('temporalAddress') });
  s3 = await startS3Server();
  undoS3Env = s3.use();
}, 200_000);

afterAll(async () => {
  await killChildren();
  await connection?.close();
  await fake?.close();
  undoS3Env?.();
  await s3?.stop();
});

describe('worker crash', () => {
  // A run reading step files, a run fed by a trainer's submitRollouts updates (each update waits
  // for its step's rewards across the crashes), step files of trajectories (messages), and step
  // files and run folder in S3 with each worker in an empty folder of its own (sharing nothing
  // with the others but Temporal and the bucket).
  it.each(['directory', 'updates', 'trajectories', 's3'] as const)('a worker SIGKILLed three times mid-chunk (%s): the run completes, every rollout once, at most the in-flight calls paid twice', async (kind) => {
    const mode = kind === 'updates' ? 'updates' : 'directory';
    const started = Date.now();
    const dir = kind === 's3' ? s3.location(`worker-crash-${randomUUID()}`) : await tempDir('arbiter-worker-crash-');
    const rolloutsDir = joinLocation(dir, 'rollouts');
    const ids = await writeSteps(rolloutsDir, STEPS, PER_STEP, 1, kind === 'trajectories');
    const outputDir = joinLocation(dir, 'out');
    const taskQueue = `worker-crash-${randomUUID()}`;
    const s3Env = kind === 's3' ? { ...(s3.env as Record<string, string>), ARBITER_ALLOWED_OUTPUT_DIRS: outputDir, ARBITER_ALLOWED_ROLLOUT_DIRS: rolloutsDir } : {};
    const workerDirs: string[] = [];
    const newWorker = async () => {
      if (kind !== 's3') return spawnWorker(workerEnv);
      workerDirs.push(await tempDir('arbiter-worker-crash-cwd-'));
      return spawnWorker(workerEnv, { cwd: workerDirs.at(-1) });
    };
    const workerEnv = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ARBITER_TASK_QUEUE: taskQueue,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDFAKEBEDROCKTEST',
      AWS_SECRET_ACCESS_KEY: 'fake-bedrock-test-secret',
      ...s3Env,
    };
    fake.reset();
    callsById.clear();
    trajectoryCalls = 0;

    let worker = await newWorker();
    const workers: Child[] = [worker];
    /** What the fake saw at each kill: the request that triggered it and the calls then in flight. */
    const kills: { atRequest: number; inFlight: number; atMs: number }[] = [];
    const killed: (() => void)[] = [];
    const killSignals = KILL_AT_REQUEST.map(() => new Promise<void>((resolve) => killed.push(resolve)));
    let workerReady = false;
    onCall = () => {
      const next = kills.length;
      const threshold = KILL_AT_REQUEST[next];
      if (threshold === undefined || !workerReady || fake.stats.requests < threshold) return;
      // Synchronously, while this call (and its neighbours) are in flight: the worker dies mid-chunk.
      workerReady = false;
      kills.push({ atRequest: fake.stats.requests, inFlight: fake.stats.inFlight, atMs: Date.now() - started });
      worker.process.kill('SIGKILL');
      killed[next]!();
    };

    const client = new Client({ connection, dataConverter: arbiterDataConverter });
    const workflowId = `worker-crash-${Date.now()}`;
    let finished = false;
    try {
      await worker.ready;
      workerReady = true;
      const bootMs = [Date.now() - started];
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{
          runId: 'crashed',
          steps: STEPS,
          rollouts: mode === 'directory' ? { type: 'directory', path: rolloutsDir } : { type: 'updates' },
          outputDir,
          judge: { provider: 'bedrock', model: TEST_MODEL, rubric, quota: { maxInFlight: MAX_IN_FLIGHT, requestsPerMinute: 60_000 } },
          chunkSize: CHUNK_SIZE,
          // Two chunks share the three judge slots. With more, a live chunk queued for a slot can go
          // longer than the 2 s heartbeat timeout without a heartbeat (activities/score-chunk.ts
          // heartbeats on progress and every 5 s, whatever the timeout) and be retried alongside
          // itself, paying twice without any crash.
          maxChunksInFlight: 2,
          scoring: { heartbeatSeconds: 2, initialIntervalSeconds: 1, maximumIntervalSeconds: 2 },
        }],
      });

      // The trainer of an updates-fed run sends each step by path and waits for its rewards.
      const trainer = async () => {
        for (let step = 1; step <= STEPS; step++) {
          const reply = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, path: stepRolloutFile(rolloutsDir, step) }] });
          expect(reply.summary.count).toBe(PER_STEP);
        }
      };
      const outcome = mode === 'updates' ? trainer().then(() => handle.result()) : handle.result();
      outcome.catch(() => {}); // awaited below; a failure also ends the wait for the next crash
      for (const [i, signal] of killSignals.entries()) {
        await Promise.race([signal, outcome.then(() => Promise.reject(new Error(`the run ended before crash ${i + 1}`)))]);
        const exit = await worker.exited;
        expect(exit.signal).toBe('SIGKILL');
        const restart = Date.now();
        worker = await newWorker();
        workers.push(worker);
        await worker.ready;
        bootMs.push(Date.now() - restart);
        workerReady = true;
      }

      const result = await outcome;
      finished = true;
      const durationMs = Date.now() - started;
      expect(result).toMatchObject({ status: 'completed', stepsDone: STEPS });
      expect(kills).toHaveLength(3);

      // Every rollout id exactly once across the checkpointed artifacts; none a fallback.
      const { manifest, records } = await readRunRecords(joinLocation(outputDir, 'crashed'));
      expect(manifest.map((m) => m.step)).toEqual([1, 2, 3]);
      // On S3 the workers wrote nothing beside themselves: the bucket was all they shared.
      for (const cwd of workerDirs) expect(await readdir(cwd)).toEqual([]);
      expect(workerDirs).toHaveLength(kind === 's3' ? 4 : 0);
      const seen = new Map<string, number>();
      for (const r of records) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
      // Paid twice: judge calls beyond the first for a rollout, counted by rollout id and, as a
      // cross-check, by the fake's prompt hash (which ignores the delimiter nonces).
      const retried = await retriedActivities(handle);
      const duplicates = callsById.duplicates;
      const byPromptHash = [...fake.stats.callsByPromptHash.values()].reduce((n, calls) => n + calls - 1, 0);
      const cached = records.filter((r) => r.judge.cached).length;
      console.log(
        `[worker-crash, ${kind}] ${ids.length} rollouts, ${fake.stats.requests} judge requests, ${duplicates} paid twice ` +
          `(${callsById.paidTwice()}); ` +
          `duplicates by the fake's prompt hash: ${byPromptHash}; cached records ${cached}; ` +
          `kills ${JSON.stringify(kills)}; worker boots ${bootMs.join('/')} ms; retried activities ${JSON.stringify(retried)}; run ${durationMs} ms; ` +
          `summaries ${JSON.stringify(manifest.map((m) => ({ step: m.step, count: m.summary.count, cached: m.summary.cached })))}`,
      );
      expect([...seen.entries()].filter(([, n]) => n !== 1), 'rollout ids not exactly once in the rewards artifacts').toEqual([]);
      expect(manifest.map((m) => m.summary.count)).toEqual(manifest.map(() => PER_STEP));
      expect([...seen.keys()].sort()).toEqual([...ids].sort());
      expect(records.filter((r) => r.status !== 'scored' || r.flags.some((f) => f.startsWith('fallback')))).toEqual([]);
      for (const r of records) expect(r.reward).toBe(Number(r.id.split('-r')[1]) % 2 === 0 ? 1 : 0);

      expect(callsById.get('unknown')).toBeUndefined();
      expect(trajectoryCalls).toBe(kind === 'trajectories' ? fake.stats.requests : 0);
      expect(fake.stats.requests).toBe(ids.length + duplicates);
      // Heartbeat resume (partial files) plus the judge cache: at most one chunk per crash...
      expect(duplicates).toBeLessThanOrEqual(KILL_AT_REQUEST.length * CHUNK_SIZE);
      // ...and in fact about the calls in flight when each crash hit (the limiter allows
      // MAX_IN_FLIGHT; one more for an answer already received but not yet cached or appended).
      expect(duplicates).toBeLessThanOrEqual(kills.length * (MAX_IN_FLIGHT + 1));
    } catch (err) {
      for (const w of workers) console.log(`--- ${w.name} output ---\n${w.output().slice(-4000)}`);
      throw err;
    } finally {
      onCall = () => {};
      await killChildren();
      // Leave nothing running on the shared test server.
      if (!finished) await client.workflow.getHandle(workflowId).terminate('worker-crash test failed').catch(() => {});
    }
  }, 240_000);
});
