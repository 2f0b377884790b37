import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RunLayout } from '../../src/contract/run-layout';
import type { FakeCall } from '../support/fake-bedrock';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { TEST_MODEL } from '../support/fake-bedrock-env';
import { tempDir, writeSteps } from '../support/fixtures';
import { keywordJudge } from '../helpers/keyword-judge';
import { killChildren, retriedActivities, spawnWorker, type Child } from '../helpers/processes';
import { readRunRecords } from '../helpers/run-records';
import { hashTree } from '../helpers/tree-hash';
import { rejudgeRun } from '../../workflows/rejudge-run';
import { rftRun } from '../../workflows/rft-run';
import { CallsPerRollout } from '../support/calls-per-rollout';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

const STEPS = 2;
const PER_STEP = 40;
const CHUNK_SIZE = 10;
const MAX_IN_FLIGHT = 3;
/** The worker is SIGKILLed when the fake receives these (1-based) requests of the re-judge: mid-chunk, calls in flight. */
const KILL_AT_REQUEST = [15, 50];

const rubric = { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky' }, { id: 'names_notice', description: 'Names the notice period' }] };
const callsById = new CallsPerRollout();
let onCall: (call: FakeCall) => void = () => {};
const judge = keywordJudge({ flags_risk: 'risk', names_notice: 'notice' });
// Its AWS variables are this process's, which the spawned workers inherit.
const fake = fakeBedrockPerFile({
  seed: 22,
  latencyMs: [150, 250],
  respond: (call) => {
    callsById.count(call);
    onCall(call);
    return judge(call);
  },
});
afterAll(() => killChildren());

describe('re-judge under worker crashes', () => {
  it('a worker SIGKILLed twice mid-re-judge: the version completes, every rollout once, at most the in-flight calls paid twice', async () => {
    const dir = await tempDir('arbiter-rejudge-crash-');
    const ids = await writeSteps(join(dir, 'rollouts'), STEPS, PER_STEP);
    const outputDir = join(dir, 'out');
    const taskQueue = `rejudge-crash-${randomUUID()}`;
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), ARBITER_TASK_QUEUE: taskQueue };
    let worker = spawnWorker(workerEnv);
    const workers: Child[] = [worker];
    const connection = await connectSafely({ address: inject('temporalAddress') });
    const client = new Client({ connection, dataConverter: arbiterDataConverter });
    const workflowId = `rejudge-crash-${Date.now()}`;
    let finished = false;
    try {
      await worker.ready;
      // The run itself, with the offline judge: the fake sees only the re-judge's calls.
      await client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `run-${workflowId}`,
        args: [{ runId: 'crashed', steps: STEPS, rollouts: { type: 'directory', path: join(dir, 'rollouts') }, outputDir, chunkSize: CHUNK_SIZE }],
      });
      const runDir = RunLayout.of(outputDir, 'crashed').runDir;
      const before = await hashTree(runDir, ['versions']);
      fake.reset();
      callsById.clear();

      const kills: { atRequest: number; inFlight: number }[] = [];
      const killed: (() => void)[] = [];
      const killSignals = KILL_AT_REQUEST.map(() => new Promise<void>((resolve) => killed.push(resolve)));
      let workerReady = true;
      onCall = () => {
        const threshold = KILL_AT_REQUEST[kills.length];
        if (threshold === undefined || !workerReady || fake.stats.requests < threshold) return;
        workerReady = false;
        kills.push({ atRequest: fake.stats.requests, inFlight: fake.stats.inFlight });
        worker.process.kill('SIGKILL');
        killed[kills.length - 1]!();
      };

      const handle = await client.workflow.start(rejudgeRun, {
        taskQueue,
        workflowId,
        args: [{
          runId: 'crashed',
          outputDir,
          version: 'strict',
          judge: { provider: 'bedrock', model: TEST_MODEL, rubric, quota: { maxInFlight: MAX_IN_FLIGHT, requestsPerMinute: 60_000 } },
          chunkSize: CHUNK_SIZE,
          // As in worker-crash.test.ts: two chunks share the judge slots, so a live chunk never waits out its heartbeat timeout.
          maxChunksInFlight: 2,
          scoring: { heartbeatSeconds: 2, initialIntervalSeconds: 1, maximumIntervalSeconds: 2 },
        }],
      });
      const outcome = handle.result();
      outcome.catch(() => {});
      for (const [i, signal] of killSignals.entries()) {
        await Promise.race([signal, outcome.then(() => Promise.reject(new Error(`the re-judge ended before crash ${i + 1}`)))]);
        expect((await worker.exited).signal).toBe('SIGKILL');
        worker = spawnWorker(workerEnv);
        workers.push(worker);
        await worker.ready;
        workerReady = true;
      }
      const result = await outcome;
      finished = true;
      expect(result).toMatchObject({ status: 'completed', stepsDone: STEPS, missing: [] });

      const { manifest, records } = await readRunRecords(result.versionDir);
      expect(manifest.map((m) => m.step)).toEqual([1, 2]);
      const seen = new Map<string, number>();
      for (const r of records) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
      expect([...seen.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect([...seen.keys()].sort()).toEqual([...ids].sort());
      expect(records.filter((r) => r.status !== 'scored')).toEqual([]);

      const duplicates = callsById.duplicates;
      console.log(
        `[rejudge-crash] ${ids.length} rollouts, ${fake.stats.requests} judge requests, ${duplicates} paid twice; kills ${JSON.stringify(kills)}; ` +
          `retried activities ${JSON.stringify(await retriedActivities(handle))}`,
      );
      expect(kills).toHaveLength(KILL_AT_REQUEST.length);
      expect(callsById.get('unknown')).toBeUndefined();
      expect(fake.stats.requests).toBe(ids.length + duplicates);
      // Partial chunk files and the judge cache: about the calls in flight at each crash, never a chunk's worth.
      expect(duplicates).toBeLessThanOrEqual(kills.length * (MAX_IN_FLIGHT + 1));
      expect(await hashTree(runDir, ['versions'])).toEqual(before);
    } catch (err) {
      for (const w of workers) console.log(`--- ${w.name} output ---\n${w.output().slice(-4000)}`);
      throw err;
    } finally {
      onCall = () => {};
      await killChildren();
      if (!finished) await client.workflow.getHandle(workflowId).terminate('rejudge-crash test failed').catch(() => {});
      await connection.close();
    }
  }, 240_000);
});
