import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { NativeConnection, type Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { stepReadyFile, stepRolloutFile } from '../../src/contract/run-layout';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server/start-dev-server';
import { createArbiterWorker, createJudgeQueueWorker } from '../../src/worker/create-worker';
import { defaultRespond, type FakeCall } from '../support/fake-bedrock';
import { TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { testWorkerSettings } from '../helpers/worker-settings';
import { processesOn } from '../../src/judges/queue-processes';
import { watchJudgeQueues } from '../../src/worker/watch-judge-queues';
import { killChildren, spawnWorker } from '../helpers/processes';
import { maybeRecordHistory } from '../helpers/histories';
import { readRunRecords } from '../helpers/run-records';
import { waitFor } from '../helpers/wait-for';
import { rftRun } from '../../workflows/rft-run';
import { progressQuery, reconfigureUpdate } from '../../workflows/definitions';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

// Issue 21: runs on one provider account share its quota through one Temporal task queue, paced
// by the matching service for every worker and divided between runs by fairness key and weight.
// Fairness is off by default in Server 1.29, so this file starts a dev server of its own with it
// on (and one partition, so the queue's rate limit and its fairness are one).

const TAG = /\[(run[AB]) /;
const arrivals: { t: number; run: string }[] = [];
const fake = fakeBedrockPerFile({
  latencyMs: [10, 20],
  respond: (call: FakeCall) => {
    arrivals.push({ t: performance.now(), run: TAG.exec(userText(call))?.[1] ?? 'unknown' });
    return defaultRespond(call);
  },
});

let server: DevServer;
beforeAll(async () => {
  server = await startDevServer({
    dynamicConfig: ['matching.enableFairness=true', 'matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'],
  });
}, 120_000);
afterAll(async () => {
  await killChildren();
  await server?.stop();
});

const ROLLOUTS = 80;
const REQUESTS_PER_MINUTE = 1200; // 20 calls/s for the whole account
const CALLS_PER_TASK = 2; // so the queue lets 10 chunks a second through

async function writeTaggedStep(dir: string, tag: string, step = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines = Array.from({ length: ROLLOUTS }, (_, i) =>
    JSON.stringify({ id: `${tag}-${step}-${i}`, prompt: `Question ${i}?`, response: `[${tag} ${i}] An answer to question ${i}.` }),
  );
  await writeFile(stepRolloutFile(dir, step), lines.join('\n') + '\n');
  await writeFile(stepReadyFile(dir, step), `${ROLLOUTS}\n`);
}

/** The queue's rate limit in tasks per second, as the server reports it. */
async function queueRate(connection: Connection, queue: string) {
  const { TaskQueueType } = proto.temporal.api.enums.v1;
  const described = await connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: queue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportConfig: true,
  });
  return described.config?.queueRateLimit?.rateLimit?.requestsPerSecond;
}

const judgeOf = (sharedQuota?: { taskQueue: string; weight?: number; callsPerTask?: number; margin?: number }) => ({
  provider: 'bedrock' as const,
  model: TEST_MODEL,
  rubric: { criteria: [{ id: 'answers', description: 'Answers the question' }] },
  quota: { requestsPerMinute: REQUESTS_PER_MINUTE, maxInFlight: 32 },
  ...(sharedQuota && { sharedQuota }),
});

/** `npm run worker` judging for the account (its own queue idle), allowed the test's folders. */
function spawnJudgeProcess(judgeQueue: string, dir: string) {
  return spawnWorker({
    TEMPORAL_ADDRESS: server.address,
    ARBITER_TASK_QUEUE: `idle-${randomUUID()}`,
    ARBITER_JUDGE_TASK_QUEUES: judgeQueue,
    ARBITER_ALLOWED_ROLLOUT_DIRS: dir,
    ARBITER_ALLOWED_OUTPUT_DIRS: dir,
  });
}

interface Account {
  dir: string;
  /** The account's judge queue, and the runs' own. */
  judgeQueue: string;
  taskQueue: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  settings: ReturnType<typeof testWorkerSettings>;
  workflowWorker(): Promise<Worker>;
}

/** Runs `body` with fresh queues and connections to this file's server; kills worker processes and closes all after. */
async function onAccount(body: (account: Account) => Promise<void>): Promise<void> {
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await connectSafely({ address: server.address });
  const settings = testWorkerSettings();
  const taskQueue = `runs-${randomUUID()}`;
  try {
    await body({
      dir: await tempDir(),
      judgeQueue: `judge-${randomUUID()}`,
      taskQueue,
      client: new Client({ connection, dataConverter: arbiterDataConverter }),
      connection,
      nativeConnection,
      settings,
      workflowWorker: () => createArbiterWorker({ connection: nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') }, settings }),
    });
  } finally {
    await killChildren();
    await connection.close();
    await nativeConnection.close().catch(() => {}); // still held if a worker failed to start
  }
}

describe('runs sharing one judge account (judge.sharedQuota)', () => {
  it('are paced together by the queue and served by weight: 3:1 while both are judged', () =>
    onAccount(async ({ dir, judgeQueue, taskQueue, client, connection, nativeConnection, settings, workflowWorker: makeWorkflowWorker }) => {
      const runs = await Promise.all(
        (['runA', 'runB'] as const).map(async (tag) => {
          await writeTaggedStep(join(dir, tag), tag);
          return tag;
        }),
      );
      const workflowWorker = await makeWorkflowWorker();
      // Two judges of the account, as two machines would have: one here, one a worker process
      // (`npm run worker` with ARBITER_JUDGE_TASK_QUEUES) whose own queue has nothing to do.
      const judge = await createJudgeQueueWorker({ connection: nativeConnection, taskQueue: judgeQueue, settings });
      const other = spawnJudgeProcess(judgeQueue, dir);
      await other.ready;
      const judges = [judge];
      // What each process paces its own calls by: the queue's pollers, as Temporal reports them.
      const stopWatching = watchJudgeQueues(nativeConnection, 'default', [judgeQueue], 500);
      fake.reset();
      arrivals.length = 0;
      const stamp = Date.now();
      const ids = { runA: `shared-a-${stamp}`, runB: `shared-b-${stamp}` };
      const weights = { runA: 3, runB: 1 };
      await Promise.all([
        workflowWorker.runUntil(
          Promise.all(
            runs.map((tag) =>
              client.workflow.execute(rftRun, {
                taskQueue,
                workflowId: ids[tag],
                args: [{
                  runId: ids[tag],
                  steps: 1,
                  rollouts: { type: 'directory', path: join(dir, tag) },
                  judge: judgeOf({ taskQueue: judgeQueue, weight: weights[tag], callsPerTask: CALLS_PER_TASK }),
                  cache: false,
                  outputDir: join(dir, 'out'),
                }],
              }),
            ),
          ).then(() => Promise.all(judges.map((j) => j.shutdown()))),
        ),
        ...judges.map((j) => j.run()),
      ]);

      // Both processes counted while they judged: each paced its calls at half the account and more.
      expect(processesOn(judgeQueue)).toBe(2);
      stopWatching();
      // Every rollout judged once, by the judge workers (the run's own queue has no chunk).
      expect(arrivals.filter((a) => a.run === 'runA')).toHaveLength(ROLLOUTS);
      expect(arrivals.filter((a) => a.run === 'runB')).toHaveLength(ROLLOUTS);

      // The queue's rate, set by the runs from their quota: requests per second less the default
      // 3 % margin, in tasks of calls per task (a float32 on the wire).
      expect(await queueRate(connection, judgeQueue)).toBeCloseTo((REQUESTS_PER_MINUTE / 60) * 0.97 / CALLS_PER_TASK, 4);

      // Each chunk was scheduled on the account's queue with the run's fairness key and weight.
      const starters: (string | null | undefined)[] = [];
      for (const tag of runs) {
        const history = await client.workflow.getHandle(ids[tag]).fetchHistory();
        const events = history.events ?? [];
        const chunks = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreChunk');
        expect(chunks).toHaveLength(ROLLOUTS / CALLS_PER_TASK);
        const chunkIds = new Set(chunks.map((e) => String(e.eventId)));
        const judgedBy = new Set(
          events.filter((e) => chunkIds.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes?.identity),
        );
        starters.push(...judgedBy);
        for (const e of chunks) {
          const a = e.activityTaskScheduledEventAttributes!;
          expect(a.taskQueue?.name).toBe(judgeQueue);
          expect(a.priority?.fairnessKey).toBe(ids[tag]);
          expect(a.priority?.fairnessWeight).toBe(weights[tag]);
        }
      }

      await maybeRecordHistory('shared-quota-weighted-run', ids.runA, undefined, server.address);

      // Both workers of the account judged (the queue, not one process, held the pace).
      expect(new Set(starters).size).toBe(2);

      // Paced: 160 calls at 20/s take ~8 s (less the queue's one-second burst at start); two
      // workers with 32 calls in flight each and a 20 ms judge would take well under 2 s alone.
      const times = arrivals.map((a) => a.t);
      const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
      expect(spanS).toBeGreaterThan(5);
      // Shared by weight: while both runs were judged (until the first of them finished), run A
      // had three shares of four. The first second is left out: the queue's burst lets through
      // the tasks already waiting, in the order they came, before its pace (and fairness) begins.
      const bothUntil = Math.min(...runs.map((tag) => Math.max(...arrivals.filter((a) => a.run === tag).map((a) => a.t))));
      const during = arrivals.filter((a) => a.t >= Math.min(...times) + 1000 && a.t <= bothUntil);
      const shareA = during.filter((a) => a.run === 'runA').length / during.length;
      console.log(`shared quota: ${arrivals.length} calls over ${spanS.toFixed(1)} s; run A's share while both ran ${shareA.toFixed(3)} (fair 0.75) of ${during.length} calls`);
      expect(shareA).toBeGreaterThan(0.6);
      expect(shareA).toBeLessThan(0.9);
    }), 120_000);

  it('lose nothing when a judge process is killed mid-chunk: its chunks are judged again by another', () =>
    onAccount(async ({ dir, judgeQueue, taskQueue, client, nativeConnection, settings, workflowWorker: makeWorkflowWorker }) => {
      const runId = `shared-crash-${Date.now()}`;
      await writeTaggedStep(join(dir, 'runA'), 'runA');
      fake.reset();
      arrivals.length = 0;
      // At first only a worker process judges for the account.
      const doomed = spawnJudgeProcess(judgeQueue, dir);
      await doomed.ready;
      const workflowWorker = await makeWorkflowWorker();
      await workflowWorker.runUntil(async () => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: runId,
          args: [{
            runId,
            steps: 1,
            rollouts: { type: 'directory', path: join(dir, 'runA') },
            judge: judgeOf({ taskQueue: judgeQueue, callsPerTask: CALLS_PER_TASK }),
            // A dead worker's chunks are handed on after two silent seconds.
            scoring: { heartbeatSeconds: 2 },
            cache: false,
            outputDir: join(dir, 'out'),
          }],
        });
        // Killed while it judges (the queue paces it at 20 calls/s: 80 calls take four seconds).
        await waitFor(async () => arrivals.length, (n) => n >= 20);
        await doomed.kill();
        const judge = await createJudgeQueueWorker({ connection: nativeConnection, taskQueue: judgeQueue, settings });
        await judge.runUntil(handle.result());
      });

      const history = await client.workflow.getHandle(runId).fetchHistory();
      const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
      const { manifest, records } = await readRunRecords(join(dir, 'out', runId));
      console.log(`shared quota, judge killed: ${retried.length} chunk attempts retried, ${arrivals.length} calls for ${ROLLOUTS} rollouts`);
      // The killed process held chunks, and they were judged again elsewhere.
      expect(retried.length).toBeGreaterThan(0);
      // Every rollout rewarded once, by the judge, none by fallback.
      expect(manifest[0]!.summary).toMatchObject({ count: ROLLOUTS, scored: ROLLOUTS, fallback: 0 });
      expect(new Set(records.map((r) => r.id)).size).toBe(ROLLOUTS);
      // A retried chunk judges only what its dead attempt left unjudged... or at most its own calls again.
      expect(arrivals.length).toBeLessThanOrEqual(ROLLOUTS + retried.length * CALLS_PER_TASK);
    }), 120_000);

  it('a run reconfigured onto the account paces its queue before its next step', () =>
    onAccount(async ({ dir, judgeQueue, taskQueue, client, connection, nativeConnection, settings, workflowWorker: makeWorkflowWorker }) => {
      const runId = `shared-reconfigured-${Date.now()}`;
      await writeTaggedStep(join(dir, 'runA'), 'runA', 1);
      const workflowWorker = await makeWorkflowWorker();
      const judge = await createJudgeQueueWorker({ connection: nativeConnection, taskQueue: judgeQueue, settings });
      await Promise.all([
        workflowWorker.runUntil(async () => {
          const handle = await client.workflow.start(rftRun, {
            taskQueue,
            workflowId: runId,
            args: [{ runId, steps: 3, rollouts: { type: 'directory', path: join(dir, 'runA') }, judge: judgeOf(), cache: false, outputDir: join(dir, 'out') }],
          });
          await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 1);
          // Step 2 is in progress (waiting for its file): it keeps its judge, step 3 takes the new one.
          const reply = await handle.executeUpdate(reconfigureUpdate, { args: [{ judge: judgeOf({ taskQueue: judgeQueue, callsPerTask: 5, margin: 0 }) }] });
          expect(reply.message).toMatch(/from step 3/);
          await writeTaggedStep(join(dir, 'runA'), 'runA', 2);
          await writeTaggedStep(join(dir, 'runA'), 'runA', 3);
          await handle.result();
          await judge.shutdown();
        }),
        judge.run(),
      ]);
      const events = (await client.workflow.getHandle(runId).fetchHistory()).events ?? [];
      const queues = events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreChunk')
        .map((e) => e.activityTaskScheduledEventAttributes!.taskQueue?.name);
      // Steps 1 and 2 (64 a chunk) on the run's queue, step 3 (5 a chunk) on the account's.
      expect(queues).toEqual([...Array(4).fill(taskQueue), ...Array(ROLLOUTS / 5).fill(judgeQueue)]);
      expect(await queueRate(connection, judgeQueue)).toBeCloseTo(REQUESTS_PER_MINUTE / 60 / 5, 4);
    }), 120_000);
});
