/**
 * Reward service benchmark: `npm run bench:serve`.
 *
 * `arbiter serve` (src/serve/) in this process, over a dev server of the benchmark's own and an
 * Arbiter worker in a process of its own (see below). Clients send OpenRLHF remote-RM requests of ONE sample each
 * (`{"query": [prompt + response], "prompts": [prompt], "labels": [reference]}`, as OpenRLHF's
 * remote RM calls do per sample) to `POST /openrlhf/:runId` over kept-alive node:http
 * connections (bench/http-post.ts), a fixed number of them at once, each sending its next
 * request when its answer is back. The service merges concurrent requests into steps of one run
 * (submitRequests Updates).
 *
 *  offline   the zero-latency offline judge. Measured in the same run against the judge called
 *            directly, no Temporal, no HTTP, on the same rollouts:
 *              direct_rps        the rollouts as one step through Arbiter's chunk code
 *                                (prepareBatch, judgeChunk over the chunks, maxChunksInFlight at
 *                                once, writeCheckpoint), as bench/overhead.ts's `steps`;
 *              direct_p50/p99    the same number of concurrent callers each awaiting
 *                                judge.judge + rewardRecordFor of one rollout, in memory.
 *            added_p50/p99_ms = the service's latency percentile - the direct one.
 *  bedrock   judge `provider: bedrock` on the fake Bedrock (test/support/fake-bedrock.ts) at a
 *            quota of 50 req/s, 200 ms per call, via AWS_ENDPOINT_URL_BEDROCK_RUNTIME, as
 *            bench/judge.ts; the run's judge.quota is the account quota (3000/min). Throughput
 *            is reported as a share of the quota (`of_quota`, ideally near 1; `steady_of_quota` leaves
 *            out the first and last 2 s of calls, where the closed loop ramps up and drains); nothing asserts.
 *
 * The service and its clients (bench/serve-clients.ts) run in this process (BENCH_SERVE_CLIENTS_IN=thread:
 * the clients in a thread of their own), the worker in a process of its own, as
 * `npm run worker` deploys it (BENCH_SERVE_WORKER=inline: in this process too). All share the
 * machine's cores with the dev server: the latencies include that contention.
 *
 * One JSON line on stdout; progress notes on stderr. Knobs (environment):
 *   BENCH_SERVE_REQUESTS=2000 (offline)  BENCH_SERVE_CLIENTS=64  BENCH_SERVE_BEDROCK_REQUESTS=1000
 *   BENCH_SERVE_BEDROCK_CLIENTS (default: BENCH_SERVE_CLIENTS)
 *   BENCH_SERVE_WARMUP=256 (offline requests before measuring)  BENCH_SERVE_BATCH_WINDOW_MS (the service's default)
 *   BENCH_SERVE_WORKER=process|inline  BENCH_SERVE_HISTORY_OUT=<file> (every execution of the offline run's history, as JSON)
 *   BENCH_SERVE_BEDROCK_HISTORY_OUT=<file> (the Bedrock run's latest history, as JSON)
 *   BENCH_SERVE_CLIENT=http|fetch (the clients' HTTP library: node:http, kept alive, by default; undici's fetch as before)
 *   BENCH_SERVE_CLIENTS_IN=service|thread (the clients on the service's event loop, by default, or in a thread of their own)
 *   BENCH_SERVE_MAX_IN_FLIGHT (the service's Updates in flight per run when a round outgrows one Update; its default)
 *   BENCH_SERVE_DYNAMIC_CONFIG=<key=value,...> (the dev server's dynamic config, e.g. limit.historySize.suggestContinueAsNew=200000000: no continue-as-new)
 *
 * Each request's time is split on stderr: until the run recorded it (the Update) and then until
 * its answer was known (its step), as the service measured them (RunRequests.phases).
 * Where the bedrock time goes is on stderr: the share of the quota the fake's calls left unused,
 * the gaps over 200 ms between them, calls per second, and each step's phases from the run's
 * history (bench/step-timeline.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, type RunConfigInput } from '../src/config/run-config';
import type { Rollout } from '../src/config/rollout';
import { RunLayout, stepRolloutFile } from '../src/contract/run-layout';
import { buildJudge } from '../src/judges/build-judge';
import { OfflineHeuristicJudge } from '../src/judges/offline-heuristic';
import { rewardRecordFor } from '../src/rewards/reward-record-for';
import type { RunRequests } from '../src/serve/run-requests';
import { buildServer, DEFAULT_BATCHING } from '../src/serve/server';
import type { RecentSamples } from '../src/stats/recent-samples';
import { progressQuery } from '../workflows/definitions';
import { writeCheckpoint } from '../src/steps/checkpoint';
import { judgeChunk } from '../src/steps/judge-chunk';
import { prepareBatch } from '../src/steps/prepare-batch';
import { boundedAll } from '../src/util/bounded-all';
import { defaultRespond, startFakeBedrock } from '../test/support/fake-bedrock';
import { historyOf, type HistoryEvent } from '../test/support/run-chain';
import { useFakeBedrockEnv } from '../test/support/fake-bedrock-env';
import { benchBedrockJudge } from './chunk-slots';
import { benchServer, envNumber, note, quietRuntime, round, runBench, withBenchWorker, withWorkerProcess } from './harness';
import type { Client } from '@temporalio/client';
import { rolloutOf, writeStepFile } from './step-files';
import { closedLoop, type Load } from './closed-loop';
import { clientLoad, clientLoadInThread, STEP } from './serve-clients';
import { firstSteps, historyMix, quotaUse, stepTimeline } from './step-timeline';
import { localActivityPhases } from './history-timings';
import { cpuMsOf, descendantPid, devServerPid } from './proc-stats';

const REQUESTS = envNumber('BENCH_SERVE_REQUESTS', 2000);
const CLIENTS = envNumber('BENCH_SERVE_CLIENTS', 64);
const BEDROCK_REQUESTS = envNumber('BENCH_SERVE_BEDROCK_REQUESTS', 1000);
const BEDROCK_CLIENTS = envNumber('BENCH_SERVE_BEDROCK_CLIENTS', CLIENTS);
const WARMUP = envNumber('BENCH_SERVE_WARMUP', 256);
const WINDOW_MS = envNumber('BENCH_SERVE_BATCH_WINDOW_MS', DEFAULT_BATCHING.windowMs);
const MAX_IN_FLIGHT = envNumber('BENCH_SERVE_MAX_IN_FLIGHT', DEFAULT_BATCHING.maxInFlight);
/** `process` (default): the worker in a process of its own, as deployed; `inline`: in this one. */
const WORKER = process.env.BENCH_SERVE_WORKER === 'inline' ? 'inline' : 'process';
/** The clients' HTTP library: `http` (node:http, kept-alive connections) or `fetch` (undici, as before December 2026). */
const HTTP_CLIENT = process.env.BENCH_SERVE_CLIENT === 'fetch' ? 'fetch' : 'http';
/**
 * Where the clients run: on the service's event loop (default), or in a thread of their own
 * (`thread`). Measured both ways at 256 clients: no difference beyond the noise (docs/performance.md).
 */
const CLIENTS_IN = process.env.BENCH_SERVE_CLIENTS_IN === 'thread' ? 'thread' : 'service';
const QUOTA_RPS = 50;
const LATENCY_MS = 200;

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A service's per-request phases (RunRequests.phases) as `p50/p99` in ms. */
function phasesOf(requests: RunRequests): Record<'recorded' | 'answered', string> {
  const at = (s: RecentSamples) => `${s.quantile(0.5).toFixed(0)}/${s.quantile(0.99).toFixed(0)}`;
  return { recorded: at(requests.phases.recorded), answered: at(requests.phases.answered) };
}

/**
 * CPU time so far of the processes that serve a request: this one (the service, and the clients
 * unless in a thread of their own: a thread is in its process), the worker's and the dev server's.
 * Less noisy than a rate on a shared machine, and what bounds the rate once the cores are busy.
 * Undefined where /proc is not there.
 */
function cpuNow(address: string): { service: number; worker: number; server: number } | undefined {
  if (process.platform !== 'linux') return undefined;
  const worker = descendantPid('src/worker/main.ts');
  const server = devServerPid(address);
  if (worker === undefined || server === undefined) return undefined;
  return { service: cpuMsOf(process.pid), worker: cpuMsOf(worker), server: cpuMsOf(server) };
}

function cpuPerRequest(before: ReturnType<typeof cpuNow>, after: ReturnType<typeof cpuNow>, requests: number) {
  if (!before || !after) return undefined;
  const per = (k: keyof typeof before) => round((after[k] - before[k]) / requests, 3);
  const service = per('service');
  const worker = per('worker');
  const server = per('server');
  return { service, worker, server, total: round(service + worker + server, 3) };
}

/** Posts OpenRLHF requests for rollouts [from, from + count) to the run, from the clients' own thread (bench/serve-clients.ts) or this one. */
function serviceLoad(url: string, runId: string, from: number, count: number, clients = CLIENTS): Promise<Load> {
  const load = { url, runId, from, count, clients, http: HTTP_CLIENT } as const;
  return CLIENTS_IN === 'thread' ? clientLoadInThread(load) : clientLoad(load);
}

/** The same rollouts as one step through Arbiter's chunk code, no Temporal, no HTTP (as bench/overhead.ts's `steps`). */
async function directChunks(input: RunConfigInput, rolloutsDir: string): Promise<{ seconds: number; chunks: number }> {
  const config = parseRunConfig(input);
  const layout = RunLayout.of(config.outputDir, config.runId!);
  const judge = await buildJudge(config.judge, {});
  try {
    const began = performance.now();
    const batch = await prepareBatch({ source: stepRolloutFile(rolloutsDir, STEP), layout, step: STEP, chunkSize: config.chunkSize, maxChunks: config.maxChunksPerStep });
    await boundedAll(batch.chunkCount, config.maxChunksInFlight, (chunk) =>
      judgeChunk({ layout, runId: config.runId!, step: STEP, chunk, judge, rewards: config.rewards, fallback: config.fallback }),
    );
    await writeCheckpoint({ layout, step: STEP, chunkCount: batch.chunkCount, quarantined: batch.quarantined });
    return { seconds: (performance.now() - began) / 1000, chunks: batch.chunkCount };
  } finally {
    await judge.close();
  }
}

/** `CLIENTS` concurrent callers, each awaiting the offline judge and the reward record of one rollout. */
async function directCalls(count: number, input: RunConfigInput): Promise<Load> {
  const config = parseRunConfig(input);
  const judge = new OfflineHeuristicJudge();
  const identity = { provider: judge.provider, model: judge.model };
  return closedLoop(count, CLIENTS, async (i) => {
    const rollout: Rollout = rolloutOf(STEP, i);
    const j = await judge.judge(rollout);
    if (!j.ok) throw new Error('the offline judge failed');
    rewardRecordFor({
      step: STEP,
      rollout,
      judge: identity,
      verdict: { ok: true, score: j.score, rationale: j.rationale, usage: j.usage, latencyMs: j.latencyMs, attempts: j.attempts },
      rewards: config.rewards,
      fallback: config.fallback,
    });
  });
}

async function main(): Promise<Record<string, unknown>> {
  quietRuntime();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-serve-'));
  // When each judge call arrived: the quota's idle time is in the gaps.
  const callTimes: number[] = [];
  const respond: typeof defaultRespond = (call) => {
    callTimes.push(performance.now());
    return defaultRespond(call);
  };
  const fake = await startFakeBedrock({ latencyMs: LATENCY_MS, quota: { requestsPerSecond: QUOTA_RPS, burst: 10 }, respond });
  // Before the worker exists: its Bedrock judge reads the AWS variables of this process.
  const restoreEnv = useFakeBedrockEnv(fake.url);
  const outputDir = join(dir, 'out');
  const offlineRun = (runId: string): RunConfigInput & { runId: string } => ({
    runId,
    steps: 1_000_000,
    rollouts: { type: 'updates' },
    judge: { provider: 'offline-heuristic', mode: 'rubric' },
    outputDir,
  });
  const bedrockRun = (runId: string): RunConfigInput & { runId: string } => ({
    runId,
    steps: 1_000_000,
    rollouts: { type: 'updates' },
    judge: benchBedrockJudge({ requestsPerMinute: QUOTA_RPS * 60, maxInFlight: 32 }),
    // Every rollout a real call to the fake.
    cache: false,
    outputDir,
  });

  // ---- direct: the judge without Temporal or HTTP, on the same rollouts
  const rolloutsDir = join(dir, 'rollouts');
  await writeStepFile(rolloutsDir, STEP, REQUESTS);
  await directCalls(Math.min(REQUESTS, 500), offlineRun('direct-warmup')); // warm JIT
  const calls = await directCalls(REQUESTS, offlineRun('direct-calls'));
  await directChunks({ ...offlineRun('direct-chunks-warmup'), rollouts: { type: 'directory', path: rolloutsDir } }, rolloutsDir);
  const chunks = await directChunks({ ...offlineRun('direct-chunks'), rollouts: { type: 'directory', path: rolloutsDir } }, rolloutsDir);
  const directP50 = percentile(calls.latencies, 50);
  const directP99 = percentile(calls.latencies, 99);
  note(
    `direct: chunk code ${REQUESTS} rollouts in ${(chunks.seconds * 1000).toFixed(0)} ms (${chunks.chunks} chunks); ` +
      `${CLIENTS} concurrent judge calls p50 ${directP50.toFixed(3)} ms p99 ${directP99.toFixed(3)} ms`,
  );

  const server = await benchServer(process.env.BENCH_SERVE_DYNAMIC_CONFIG ? process.env.BENCH_SERVE_DYNAMIC_CONFIG.split(",") : []);
  try {
    const taskQueue = 'bench-serve';
    const withWorker = <T>(body: (client: Client) => Promise<T>) =>
      WORKER === 'inline' ? withBenchWorker(server, { taskQueue, allowedRolloutDirs: [tmpdir()] }, body) : withWorkerProcess(server, taskQueue, body);
    return await withWorker(async (client) => {
      const app = buildServer({ client, taskQueue, spillDir: join(dir, 'spill'), batching: { windowMs: WINDOW_MS, maxInFlight: MAX_IN_FLIGHT } });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const createRun = async (config: RunConfigInput & { runId: string }) => {
        const res = await fetch(`${url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config) });
        if (res.status !== 201) throw new Error(`creating run ${config.runId}: HTTP ${res.status} ${await res.text()}`);
      };
      const stamp = Date.now();
      try {
        // ---- offline: warm-up run, then the measured one
        const warmupId = `serve-warmup-${stamp}`;
        await createRun(offlineRun(warmupId));
        const warm = await serviceLoad(url, warmupId, 1_000_000, WARMUP);
        note(`warm-up: ${WARMUP} requests in ${warm.seconds.toFixed(2)} s`);

        const offlineId = `serve-offline-${stamp}`;
        await createRun(offlineRun(offlineId));
        const cpuBefore = cpuNow(server.address);
        const offline = await serviceLoad(url, offlineId, 0, REQUESTS);
        const cpu = cpuPerRequest(cpuBefore, cpuNow(server.address), REQUESTS);
        const offlineSteps = (await client.workflow.getHandle(offlineId).query(progressQuery)).stepsDone;
        const p50 = percentile(offline.latencies, 50);
        const p99 = percentile(offline.latencies, 99);
        note(`offline: ${REQUESTS} requests, ${CLIENTS} clients, ${offline.seconds.toFixed(2)} s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${offlineSteps} steps`);
        const offlinePhases = phasesOf(app.batcher(offlineId));
        note(`offline: per request, p50/p99 ms: until recorded by the run ${offlinePhases.recorded}, then until answered ${offlinePhases.answered}`);
        if (cpu) note(`offline: CPU per request, ms: ${JSON.stringify(cpu)} (the service's process holds its clients too)`);
        const offlineHistory = await historyOf(client, offlineId);
        // Every execution of the run (it continues as new when its history grows), oldest first.
        const executions: HistoryEvent[][] = [];
        for await (const e of client.workflow.list({ query: `WorkflowId = '${offlineId}'` })) executions.unshift(await historyOf(client, offlineId, e.runId));
        if (process.env.BENCH_SERVE_HISTORY_OUT) {
          (await import('node:fs')).writeFileSync(process.env.BENCH_SERVE_HISTORY_OUT, JSON.stringify(executions));
        }
        note(`offline: per step (latest history): ${JSON.stringify(historyMix(offlineHistory))}; ${JSON.stringify(stepTimeline(offlineHistory))}`);
        note(`offline: steps scored at once, per workflow task (all executions): ${JSON.stringify(localActivityPhases(executions.flat()))}`);

        // ---- bedrock: the fake at its quota
        const bedrockId = `serve-bedrock-${stamp}`;
        await createRun(bedrockRun(bedrockId));
        fake.reset();
        callTimes.length = 0;
        const bedrock = await serviceLoad(url, bedrockId, 2_000_000, BEDROCK_REQUESTS, BEDROCK_CLIENTS);
        const bedrockSteps = (await client.workflow.getHandle(bedrockId).query(progressQuery)).stepsDone;
        const bedrockRps = BEDROCK_REQUESTS / bedrock.seconds;
        note(
          `bedrock: ${BEDROCK_REQUESTS} requests in ${bedrock.seconds.toFixed(2)} s = ${bedrockRps.toFixed(1)} req/s (quota ${QUOTA_RPS}); ` +
            `fake: ${fake.stats.ok} ok, ${fake.stats.throttled} throttled, max in flight ${fake.stats.maxInFlight}; ${bedrockSteps} steps`,
        );
        const bedrockPhases = phasesOf(app.batcher(bedrockId));
        note(`bedrock: per request, p50/p99 ms: until recorded by the run ${bedrockPhases.recorded}, then until answered ${bedrockPhases.answered}`);
        const use = quotaUse(callTimes, QUOTA_RPS);
        const bedrockHistory = await historyOf(client, bedrockId);
        if (process.env.BENCH_SERVE_BEDROCK_HISTORY_OUT) {
          (await import('node:fs')).writeFileSync(process.env.BENCH_SERVE_BEDROCK_HISTORY_OUT, JSON.stringify(bedrockHistory));
        }
        const timeline = stepTimeline(bedrockHistory);
        // The judge's gaps on the history's clock (both are this machine's wall clock).
        const idle = use.idle_gaps.map(([at, ms]) => [`judge idle ${ms} ms from`, performance.timeOrigin + at] as const);
        note(`bedrock: the first steps, ms from the run's start: ${firstSteps(bedrockHistory, 8, idle)}`);
        note(
          `bedrock: quota unused ${(use.lost_share * 100).toFixed(1)}% of the calls' span, ${use.idle_ms} ms in gaps over 200 ms; ` +
            `calls per second ${use.per_second.join(' ')}; per step (latest history): ${JSON.stringify(timeline)}`,
        );

        for (const id of [warmupId, offlineId, bedrockId]) await client.workflow.getHandle(id).terminate('benchmark over').catch(() => {});
        return {
          bench: 'serve',
          offline: {
            requests: REQUESTS,
            clients: CLIENTS,
            seconds: round(offline.seconds, 2),
            rps: round(REQUESTS / offline.seconds, 1),
            p50_ms: round(p50, 1),
            p99_ms: round(p99, 1),
            // The judge called directly on the same rollouts: the chunk code's rate, and per-call latency.
            direct_rps: round(REQUESTS / chunks.seconds, 1),
            direct_p50_ms: round(directP50, 3),
            direct_p99_ms: round(directP99, 3),
            added_p50_ms: round(p50 - directP50, 1),
            added_p99_ms: round(p99 - directP99, 1),
            rps_over_direct: round(REQUESTS / offline.seconds / (REQUESTS / chunks.seconds), 4),
            steps: offlineSteps,
            rollouts_per_step: round(REQUESTS / offlineSteps, 1),
            batch_window_ms: WINDOW_MS,
            max_in_flight: MAX_IN_FLIGHT,
            http_client: HTTP_CLIENT,
            clients_in: CLIENTS_IN,
            ...(cpu ? { cpu_ms_per_request: cpu } : {}),
          },
          bedrock: {
            requests: BEDROCK_REQUESTS,
            clients: BEDROCK_CLIENTS,
            quota_rps: QUOTA_RPS,
            latency_ms: LATENCY_MS,
            seconds: round(bedrock.seconds, 2),
            rps: round(bedrockRps, 2),
            of_quota: round(bedrockRps / QUOTA_RPS, 3),
            // The judge's calls per second between the ramp and the drain (2 s left out at each end), as a share of the quota.
            steady_of_quota: use.steady_of_quota,
            p50_ms: round(percentile(bedrock.latencies, 50), 1),
            p99_ms: round(percentile(bedrock.latencies, 99), 1),
            steps: bedrockSteps,
            fake_ok: fake.stats.ok,
            fake_throttled: fake.stats.throttled,
            quota_lost_share: use.lost_share,
            quota_idle_ms: use.idle_ms,
            chunk_gap_ms: timeline.chunk_gap_ms,
          },
        };
      } finally {
        await app.close();
      }
    });
  } finally {
    await server.stop();
    await fake.close();
    restoreEnv();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
