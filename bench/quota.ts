/**
 * One account, many processes and runs (issue 21): `npm run bench:quota`.
 *
 * N Arbiter worker processes (`node --import tsx src/worker/main.ts`, as `npm run worker`
 * deploys them) poll ONE task queue; M runs are started at once with the Temporal client, each
 * fed by a directory of step files written up front (every step ready), each judging with
 * `provider: bedrock` on the ONE fake Bedrock account (test/support/fake-bedrock.ts: 50 req/s
 * as a token bucket with a burst of 10, 200 ms per call; beyond it 429 ThrottlingException).
 * Each run's `judge.quota` is the account quota (3000/min). In the default `shared` mode each
 * run's judge.sharedQuota names one judge queue that every process also polls: Temporal paces
 * it and shares it between runs by weight, and each process paces its calls at its part of the
 * account (docs/deploying.md, "One account, many workers and runs"). In `per-process` mode, as
 * before that, each worker process's limiter (src/judges/model-registry.ts, one per process and
 * model) believes it owns the whole quota. The first run's steps are BENCH_QUOTA_BIG times
 * larger than the others', to show whether a run with more work crowds the others out.
 *
 * Calls are attributed to runs by the rollout text the fake sees: each response starts with
 * `[<run tag> s<step>-r<i>]`. Every request (throttled or not) is seen by the fake's fault hook,
 * every successful one by its responder, each with the time it arrived.
 *
 * One JSON line on stdout; progress on stderr. Nothing asserts. The issue's goal: aggregate
 * ≥ 0.95 of the quota, ≤ 2 % of calls throttled, each run within ±20 % of its fair share (its
 * weight over all weights; 1/M without weights).
 *
 *   all_active    the span where every run was being judged (from the last run's first
 *                 successful call to the first run's last one): of_quota, each run's share of
 *                 the successful calls and its deviation from 1/M (share × M − 1).
 *   whole         first to last successful call: of_quota.
 *   windows       each run's share of the successful calls per 5-second window (from the first).
 *   throttled_share  429s / all calls the fake received.
 *
 * Knobs (environment): BENCH_QUOTA_WORKERS=4  BENCH_QUOTA_RUNS=3  BENCH_QUOTA_STEPS=3
 *   BENCH_QUOTA_ROLLOUTS=40 (per step of an ordinary run)  BENCH_QUOTA_BIG=4 (the first run's factor)
 *   BENCH_QUOTA_SCALE=8 (multiplies the rollouts per step: steps of 320 and 1,280; 1 gives a
 *   quick look in ~40 s, too short for shares: a small run's step boundaries are much of it)
 *   BENCH_QUOTA_CHUNK_SIZE, BENCH_QUOTA_CHUNKS_IN_FLIGHT (the run's; default the config's defaults)
 *   BENCH_QUOTA_WINDOW_S=5  BENCH_QUOTA_DUMP=<file> (every call's arrival, as JSON)
 *   BENCH_QUOTA_MODE=shared|per-process  BENCH_QUOTA_CALLS_PER_TASK=4  BENCH_QUOTA_WEIGHTS=1,1,1
 * The defaults: 5,760 calls, about two and a half minutes with the processes' start.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connectSafely } from '../src/temporal/closed-connection';
import type { RunConfigInput } from '../src/config/run-config';
import { stepReadyFile, stepRolloutFile } from '../src/contract/run-layout';
import { rftRun } from '../workflows/rft-run';
import { defaultRespond, startFakeBedrock, type FakeCall } from '../test/support/fake-bedrock';
import { useFakeBedrockEnv, userText } from '../test/support/fake-bedrock-env';
import { spawnWorker } from '../test/helpers/processes';
import { benchBedrockJudge } from './chunk-slots';
import { benchServer, envNumber, note, quietRuntime, round, runBench } from './harness';
import { rolloutOf } from './step-files';
import { arbiterDataConverter } from '../src/temporal/payload-compression';

const WORKERS = envNumber('BENCH_QUOTA_WORKERS', 4);
const RUNS = envNumber('BENCH_QUOTA_RUNS', 3);
const STEPS = envNumber('BENCH_QUOTA_STEPS', 3);
const SCALE = envNumber('BENCH_QUOTA_SCALE', 8);
const ROLLOUTS = Math.round(envNumber('BENCH_QUOTA_ROLLOUTS', 40) * SCALE);
const BIG = envNumber('BENCH_QUOTA_BIG', 4);
const WINDOW_S = envNumber('BENCH_QUOTA_WINDOW_S', 5);
const CHUNK_SIZE = process.env.BENCH_QUOTA_CHUNK_SIZE ? envNumber('BENCH_QUOTA_CHUNK_SIZE', 64) : undefined;
const CHUNKS_IN_FLIGHT = process.env.BENCH_QUOTA_CHUNKS_IN_FLIGHT ? envNumber('BENCH_QUOTA_CHUNKS_IN_FLIGHT', 8) : undefined;
/**
 * `shared` (the default): every run's judge.sharedQuota names one queue, which each worker also
 * polls (ARBITER_JUDGE_TASK_QUEUES); Temporal paces it at the quota and shares it by run
 * (fairness keys, weights from BENCH_QUOTA_WEIGHTS). `per-process`: each process paces alone,
 * as before issue 21.
 */
const MODE = process.env.BENCH_QUOTA_MODE === 'per-process' ? 'per-process' : 'shared';
const CALLS_PER_TASK = envNumber("BENCH_QUOTA_CALLS_PER_TASK", 4);
/** Comma-separated weight per run (default all 1): `4,1,1` gives the first run four shares. */
const WEIGHTS = (process.env.BENCH_QUOTA_WEIGHTS ?? '').split(',').filter(Boolean).map(Number);
const weightOf = (k: number) => WEIGHTS[k] ?? 1;
const JUDGE_QUEUE = 'bench-quota-judge';
/** The server's fairness (Server 1.29: off unless enabled) and one partition, so the queue's rate and fairness are one. */
const FAIRNESS_CONFIG = ['matching.enableFairness=true', 'matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'];
const QUOTA_RPS = 50;
const BURST = 10;
const LATENCY_MS = 200;

/** Run k's tag, as its rollouts carry it; run 0 is the big one. */
const tagOf = (k: number) => `qrun${k}`;
const TAG = /\[(qrun\d+) s\d+-r\d+\]/;
const perStep = (k: number) => (k === 0 ? Math.round(ROLLOUTS * BIG) : ROLLOUTS);

/** A trainer's step file whose responses carry the run's tag, then its ready marker. */
async function writeTaggedStep(dir: string, tag: string, step: number, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = await open(stepRolloutFile(dir, step), 'w');
  try {
    let text = '';
    for (let i = 0; i < count; i++) {
      const r = rolloutOf(step, i);
      text += JSON.stringify({ ...r, response: `[${tag} ${r.id}] ${r.response}` }) + '\n';
    }
    await file.write(text);
  } finally {
    await file.close();
  }
  await writeFile(stepReadyFile(dir, step), `${count}\n`);
}

const runOf = (call: FakeCall) => TAG.exec(userText(call))?.[1] ?? 'unknown';

interface Event {
  t: number;
  run: string;
}

/** Each run's successful calls in [from, to), and their total. */
function countIn(oks: Event[], tags: string[], from: number, to: number) {
  const counts = Object.fromEntries(tags.map((t) => [t, 0])) as Record<string, number>;
  let total = 0;
  for (const e of oks) {
    if (e.t < from || e.t >= to) continue;
    counts[e.run] = (counts[e.run] ?? 0) + 1;
    total++;
  }
  return { counts, total };
}

async function main(): Promise<Record<string, unknown>> {
  quietRuntime();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-quota-'));
  const tags = Array.from({ length: RUNS }, (_, k) => tagOf(k));
  const requests: Event[] = [];
  const oks: Event[] = [];
  const fake = await startFakeBedrock({
    latencyMs: LATENCY_MS,
    quota: { requestsPerSecond: QUOTA_RPS, burst: BURST },
    // Sees every request before the quota does; answers none of them itself.
    faults: (call) => {
      requests.push({ t: performance.now(), run: runOf(call) });
      return undefined;
    },
    respond: (call) => {
      oks.push({ t: performance.now(), run: runOf(call) });
      return defaultRespond(call);
    },
  });
  // Before the workers exist: their Bedrock judges read the AWS variables they inherit.
  const restoreEnv = useFakeBedrockEnv(fake.url);
  const server = await benchServer(MODE === 'shared' ? FAIRNESS_CONFIG : []);
  const taskQueue = 'bench-quota';
  const workers: ReturnType<typeof spawnWorker>[] = [];
  let connection: Connection | undefined;
  try {
    for (const [k, tag] of tags.entries()) {
      for (let step = 1; step <= STEPS; step++) await writeTaggedStep(join(dir, tag), tag, step, perStep(k));
    }
    const totalCalls = tags.reduce((sum, _, k) => sum + perStep(k) * STEPS, 0);
    note(`${RUNS} runs × ${STEPS} steps (run ${tagOf(0)}: ${perStep(0)} rollouts per step, the others ${ROLLOUTS}) = ${totalCalls} judge calls; starting ${WORKERS} worker processes`);
    const started = Date.now();
    for (let i = 0; i < WORKERS; i++) {
      workers.push(spawnWorker({ TEMPORAL_ADDRESS: server.address, ARBITER_TASK_QUEUE: taskQueue, ...(MODE === 'shared' && { ARBITER_JUDGE_TASK_QUEUES: JUDGE_QUEUE }) }));
    }
    await Promise.all(workers.map((w) => w.ready));
    note(`${WORKERS} workers polling in ${Date.now() - started} ms`);
    // Each process counts the judge queue's pollers every 5 s (src/worker/watch-judge-queues.ts):
    // a fleet that has just started has not seen all of itself yet, as a long-running one has.
    if (MODE === 'shared') await new Promise((r) => setTimeout(r, 6000));
    connection = await connectSafely({ address: server.address });
    const client = new Client({ connection, dataConverter: arbiterDataConverter });

    const stamp = Date.now();
    const runConfig = (k: number): RunConfigInput & { runId: string } => ({
      runId: `${tagOf(k)}-${stamp}`,
      steps: STEPS,
      rollouts: { type: 'directory', path: join(dir, tagOf(k)) },
      judge: {
        ...benchBedrockJudge({ requestsPerMinute: QUOTA_RPS * 60, maxInFlight: 32 }),
        ...(MODE === 'shared' && { sharedQuota: { taskQueue: JUDGE_QUEUE, weight: weightOf(k), callsPerTask: CALLS_PER_TASK } }),
      },
      ...(CHUNK_SIZE !== undefined && { chunkSize: CHUNK_SIZE }),
      ...(CHUNKS_IN_FLIGHT !== undefined && { maxChunksInFlight: CHUNKS_IN_FLIGHT }),
      // Every rollout a real call to the fake.
      cache: false,
      outputDir: join(dir, 'out'),
    });
    const began = performance.now();
    const handles = await Promise.all(
      tags.map((_, k) => client.workflow.start(rftRun, { taskQueue, workflowId: runConfig(k).runId, args: [runConfig(k)] })),
    );
    const finishedAt: Record<string, number> = {};
    const progress = setInterval(() => {
      const { counts } = countIn(oks, tags, 0, Infinity);
      note(`calls ok ${oks.length}/${totalCalls} (${tags.map((t) => `${t} ${counts[t]}`).join(', ')}), throttled ${fake.stats.throttled}, in flight ${fake.stats.inFlight}`);
    }, 5000);
    try {
      await Promise.all(
        handles.map(async (h, k) => {
          await h.result();
          finishedAt[tagOf(k)] = round((performance.now() - began) / 1000, 1);
          note(`${tagOf(k)} done at ${finishedAt[tagOf(k)]} s`);
        }),
      );
    } finally {
      clearInterval(progress);
    }

    // ---- the figures, from the fake's view of the calls
    const byRun = (events: Event[], tag: string) => events.filter((e) => e.run === tag).map((e) => e.t);
    const first = Math.min(...oks.map((e) => e.t));
    const last = Math.max(...oks.map((e) => e.t));
    const activeFrom = Math.max(...tags.map((t) => Math.min(...byRun(oks, t))));
    const activeTo = Math.min(...tags.map((t) => Math.max(...byRun(oks, t))));
    const ofQuota = (n: number, ms: number) => (ms > 0 ? round(n / ((QUOTA_RPS * ms) / 1000), 3) : null);
    const active = countIn(oks, tags, activeFrom, activeTo);
    const shareOf = (c: { counts: Record<string, number>; total: number }) =>
      Object.fromEntries(tags.map((t) => [t, c.total ? round(c.counts[t]! / c.total, 3) : null]));
    const activeShares = shareOf(active);
    // Each run's fair share: its weight over all weights (the per-process mode has no weights: 1/M).
    const weightSum = tags.reduce((sum, _, k) => sum + (MODE === 'shared' ? weightOf(k) : 1), 0);
    const fairOf = (k: number) => (MODE === 'shared' ? weightOf(k) : 1) / weightSum;
    const deviation = Object.fromEntries(tags.map((t, k) => [t, active.total ? round(active.counts[t]! / active.total / fairOf(k) - 1, 3) : null]));
    const windows: Record<string, unknown>[] = [];
    for (let from = first; from <= last; from += WINDOW_S * 1000) {
      const c = countIn(oks, tags, from, from + WINDOW_S * 1000);
      windows.push({ at_s: round((from - first) / 1000, 0), of_quota: ofQuota(c.total, Math.min(WINDOW_S * 1000, last - from)), ...shareOf(c) });
    }
    for (const w of windows) note(`window ${JSON.stringify(w)}`);
    // Every call's arrival (ms from the first), for a closer look at where the 429s fall.
    if (process.env.BENCH_QUOTA_DUMP) {
      const rel = (events: Event[]) => events.map((e) => ({ t: round(e.t - first, 1), run: e.run }));
      await writeFile(process.env.BENCH_QUOTA_DUMP, JSON.stringify({ requests: rel(requests), oks: rel(oks) }));
    }
    const perRun = Object.fromEntries(
      tags.map((t, k) => {
        const reqs = byRun(requests, t).length;
        const ok = byRun(oks, t).length;
        return [t, { rollouts_per_step: perStep(k), ok, throttled: reqs - ok, share_overall: round(ok / oks.length, 3), share_all_active: activeShares[t], deviation_all_active: deviation[t], done_s: finishedAt[t] }];
      }),
    );
    const throttledShare = round(fake.stats.throttled / Math.max(1, fake.stats.requests), 4);
    const maxDeviation = Math.max(...Object.values(deviation).map((d) => Math.abs(d ?? 0)));
    note(
      `all active ${round((activeTo - activeFrom) / 1000, 1)} s at ${ofQuota(active.total, activeTo - activeFrom)} of the quota, shares ${JSON.stringify(activeShares)}; ` +
        `whole ${round((last - first) / 1000, 1)} s at ${ofQuota(oks.length, last - first)}; throttled ${fake.stats.throttled} of ${fake.stats.requests} calls; fake max in flight ${fake.stats.maxInFlight}`,
    );
    return {
      bench: 'quota',
      mode: MODE,
      ...(MODE === 'shared' && { calls_per_task: CALLS_PER_TASK, weights: tags.map((_, k) => weightOf(k)) }),
      workers: WORKERS,
      runs: RUNS,
      steps: STEPS,
      rollouts_per_step: ROLLOUTS,
      big_factor: BIG,
      quota_rps: QUOTA_RPS,
      latency_ms: LATENCY_MS,
      calls_ok: oks.length,
      calls: fake.stats.requests,
      throttled: fake.stats.throttled,
      throttled_share: throttledShare,
      other_errors: fake.stats.errorsByStatus,
      unattributed_ok: oks.filter((e) => e.run === 'unknown').length,
      all_active: {
        seconds: round((activeTo - activeFrom) / 1000, 2),
        of_quota: ofQuota(active.total, activeTo - activeFrom),
        shares: activeShares,
        deviation_from_fair: deviation,
        max_abs_deviation: round(maxDeviation, 3),
      },
      whole: { seconds: round((last - first) / 1000, 2), of_quota: ofQuota(oks.length, last - first) },
      per_run: perRun,
      window_s: WINDOW_S,
      windows,
      goal: {
        of_quota_all_active: (ofQuota(active.total, activeTo - activeFrom) ?? 0) >= 0.95,
        throttled: throttledShare <= 0.02,
        fair_within_20pct: maxDeviation <= 0.2,
      },
    };
  } finally {
    await connection?.close();
    await Promise.all(workers.map((w) => w.kill()));
    await server.stop();
    await fake.close();
    restoreEnv();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
