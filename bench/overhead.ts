/**
 * Orchestration overhead benchmark: `npm run bench:overhead`.
 *
 * A zero-latency judge (the offline heuristic judge: text rules, pure CPU, no I/O) scores ONE
 * step of 10,000 rollouts three ways, in one process, on one machine, in one run:
 *
 *  direct     OfflineHeuristicJudge.judge + rewardRecordFor for each rollout (rollouts already
 *             parsed in memory, records kept in memory): the judging itself, nothing else.
 *  steps      Arbiter's step code without Temporal: prepareBatch, judgeChunk over every chunk
 *             (maxChunksInFlight at once, like the workflow), writeCheckpoint. Separates the cost
 *             of Arbiter's files (validation, partial results, artifact) from Temporal's.
 *  workflow   the full `rftRun` workflow (directory source, offline judge) on a dev server this
 *             benchmark starts, with a worker in this process; wall time from start to result.
 *
 * Each way runs once unmeasured first (warm JIT, warm worker), then measured. Prints one JSON
 * line; `overhead_ms_per_rollout` = (workflow_ms - direct_ms) / rollouts (target: < 0.5 ms).
 * The history's event timestamps break the workflow's time down by activity (`phases`), and
 * the CPU time of this process (worker) and of the dev server is read from /proc.
 *
 * `variants` repeats the workflow with other knobs in the same run: chunkSize, maxChunksInFlight,
 * the worker's activity slots, and a second dev server with eager activity dispatch
 * (`system.enableActivityEagerExecution=true`), which skips the task-queue round trip.
 *
 * Knobs (environment): BENCH_ROLLOUTS=10000  BENCH_CHUNK_SIZE (default: the config default, 64)
 *   BENCH_CHUNKS_IN_FLIGHT (config default 8)  BENCH_ACTIVITY_SLOTS (worker maxConcurrentActivityTaskExecutions, 16)
 *   BENCH_VARIANTS=none (headline only)  BENCH_DYNAMIC_CONFIG=KEY=VALUE,... (the headline's dev server)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { DevServer } from '../src/temporal/dev-server/start-dev-server';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../src/config/run-config';
import type { Rollout } from '../src/config/rollout';
import type { RewardRecord } from '../src/contract/reward-record';
import { buildJudge } from '../src/judges/build-judge';
import { OfflineHeuristicJudge } from '../src/judges/offline-heuristic';
import { rewardRecordFor } from '../src/rewards/reward-record-for';
import { RunLayout, stepRolloutFile } from '../src/contract/run-layout';
import { writeCheckpoint } from '../src/steps/checkpoint';
import { prepareBatch } from '../src/steps/prepare-batch';
import { judgeChunk } from '../src/steps/judge-chunk';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { boundedAll } from '../src/util/bounded-all';
import { type RunResult, rftRun } from '../workflows/rft-run';
import { historyOf } from '../test/support/run-chain';
import { benchServer, note, quietRuntime, round, runBench, withBenchWorker } from './harness';
import { historyTimings } from './history-timings';
import { cpuMsOf, devServerPid } from './proc-stats';
import { writeStepFile } from './step-files';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 10_000);
const CHUNK_SIZE = process.env.BENCH_CHUNK_SIZE ? Number(process.env.BENCH_CHUNK_SIZE) : undefined;
const CHUNKS_IN_FLIGHT = process.env.BENCH_CHUNKS_IN_FLIGHT ? Number(process.env.BENCH_CHUNKS_IN_FLIGHT) : undefined;
const ACTIVITY_SLOTS = Number(process.env.BENCH_ACTIVITY_SLOTS ?? 16);
/** `none`: the headline only, no knob variants. */
const VARIANTS = process.env.BENCH_VARIANTS ?? 'all';
/** Extra dynamic config of the headline's dev server, `KEY=VALUE,KEY=VALUE`. */
const DYNAMIC_CONFIG = (process.env.BENCH_DYNAMIC_CONFIG ?? '').split(',').filter((kv) => kv);
const WARMUP_ROLLOUTS = 500;

function runConfig(
  rolloutsDir: string,
  outputDir: string,
  runId: string,
  knobs: { chunkSize?: number; maxChunksInFlight?: number } = { chunkSize: CHUNK_SIZE, maxChunksInFlight: CHUNKS_IN_FLIGHT },
): RunConfigInput {
  return {
    runId,
    steps: 1,
    rollouts: { type: 'directory', path: rolloutsDir },
    judge: { provider: 'offline-heuristic', mode: 'rubric' },
    ...(knobs.chunkSize !== undefined && { chunkSize: knobs.chunkSize }),
    ...(knobs.maxChunksInFlight !== undefined && { maxChunksInFlight: knobs.maxChunksInFlight }),
    outputDir,
  };
}

/** The judging alone: judge + rewardRecordFor per rollout, in memory. */
async function direct(rollouts: Rollout[], config: RunConfig): Promise<{ ms: number; records: RewardRecord[] }> {
  const judge = new OfflineHeuristicJudge();
  const identity = { provider: judge.provider, model: judge.model };
  const records: RewardRecord[] = [];
  const started = performance.now();
  for (const rollout of rollouts) {
    const j = await judge.judge(rollout);
    if (!j.ok) throw new Error('the offline judge failed');
    records.push(
      rewardRecordFor({
        step: 1,
        rollout,
        judge: identity,
        verdict: { ok: true, score: j.score, rationale: j.rationale, usage: j.usage, latencyMs: j.latencyMs, attempts: j.attempts },
        rewards: config.rewards,
        fallback: config.fallback,
      }),
    );
  }
  return { ms: performance.now() - started, records };
}

/** Arbiter's step code without Temporal, chunks scheduled as the workflow schedules them. */
async function steps(config: RunConfig, rolloutsDir: string): Promise<{ ms: number; prepare_ms: number; score_ms: number; checkpoint_ms: number; chunks: number; mean: number }> {
  const layout = RunLayout.of(config.outputDir, config.runId!);
  const judge = await buildJudge(config.judge, {});
  const t0 = performance.now();
  const batch = await prepareBatch({ source: stepRolloutFile(rolloutsDir, 1), layout, step: 1, chunkSize: config.chunkSize, maxChunks: config.maxChunksPerStep });
  const t1 = performance.now();
  await boundedAll(batch.chunkCount, config.maxChunksInFlight, (chunk) =>
    judgeChunk({ layout, runId: config.runId!, step: 1, chunk, judge, rewards: config.rewards, fallback: config.fallback }),
  );
  const t2 = performance.now();
  const checkpoint = await writeCheckpoint({ layout, step: 1, chunkCount: batch.chunkCount, quarantined: batch.quarantined });
  const t3 = performance.now();
  await judge.close();
  return { ms: t3 - t0, prepare_ms: t1 - t0, score_ms: t2 - t1, checkpoint_ms: t3 - t2, chunks: batch.chunkCount, mean: checkpoint.entry.summary.reward.mean };
}

async function main(): Promise<Record<string, unknown>> {
  quietRuntime();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-overhead-'));
  const rolloutsDir = join(dir, 'rollouts');
  const warmupDir = join(dir, 'warmup-rollouts');
  const { bytes } = await writeStepFile(rolloutsDir, 1, ROLLOUTS);
  await writeStepFile(warmupDir, 1, WARMUP_ROLLOUTS);
  note(`${ROLLOUTS} rollouts (${(bytes / 1e6).toFixed(1)} MB) in ${rolloutsDir}`);

  // ---- direct: judge + rewardRecordFor in memory
  const rollouts = (await readFile(stepRolloutFile(rolloutsDir, 1), 'utf8'))
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Rollout);
  const baseConfig = parseRunConfig(runConfig(rolloutsDir, join(dir, 'out-direct'), 'direct'));
  await direct(rollouts.slice(0, 2000), baseConfig); // warm-up
  const directRuns = [await direct(rollouts, baseConfig), await direct(rollouts, baseConfig), await direct(rollouts, baseConfig)];
  const directMs = directRuns.map((r) => r.ms).sort((a, b) => a - b)[1]!;
  const directMean = directRuns[0]!.records.reduce((s, r) => s + (r.reward ?? 0), 0) / ROLLOUTS;
  note(`direct: ${directRuns.map((r) => r.ms.toFixed(1)).join(', ')} ms (median ${directMs.toFixed(1)})`);

  // ---- steps: Arbiter's files, no Temporal
  await steps(parseRunConfig(runConfig(warmupDir, join(dir, 'out-steps'), 'steps-warmup')), warmupDir);
  const stepsRun = await steps(parseRunConfig(runConfig(rolloutsDir, join(dir, 'out-steps'), 'steps')), rolloutsDir);
  note(
    `steps (no Temporal): ${stepsRun.ms.toFixed(0)} ms = prepare ${stepsRun.prepare_ms.toFixed(0)} + score ${stepsRun.score_ms.toFixed(0)} ` +
      `(${stepsRun.chunks} chunks) + checkpoint ${stepsRun.checkpoint_ms.toFixed(0)}`,
  );

  // ---- workflow: the headline (default knobs unless set by environment), then variants
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundleLogger });
  const bundle = { code };
  const headline: Variant = { name: 'headline', chunkSize: CHUNK_SIZE, maxChunksInFlight: CHUNKS_IN_FLIGHT, slots: ACTIVITY_SLOTS, eager: false };
  const variants: Variant[] = VARIANTS === 'none' ? [] : [
    { name: 'chunkSize=256', chunkSize: 256, slots: 16, eager: false },
    { name: 'maxChunksInFlight=2', maxChunksInFlight: 2, slots: 16, eager: false },
    { name: 'maxChunksInFlight=16', maxChunksInFlight: 16, slots: 16, eager: false },
    { name: 'slots=4', slots: 4, eager: false },
    { name: 'eager-activities', slots: 16, eager: true },
    { name: 'eager-activities,maxChunksInFlight=2', maxChunksInFlight: 2, slots: 16, eager: true },
  ];
  const lazy = await benchServer(DYNAMIC_CONFIG);
  let eagerServer: DevServer | undefined;
  try {
    const main = await measureWorkflow(lazy, bundle, headline, dir, rolloutsDir, warmupDir);
    const others: Record<string, unknown>[] = [];
    for (const v of variants) {
      if (v.eager && !eagerServer) eagerServer = await benchServer(['system.enableActivityEagerExecution=true']);
      const m = await measureWorkflow(v.eager ? eagerServer! : lazy, bundle, v, dir, rolloutsDir, warmupDir);
      const score = m.timings.activities.scoreChunk;
      others.push({
        variant: v.name,
        workflow_ms: round(m.ms, 1),
        overhead_ms_per_rollout: round((m.ms - directMs) / ROLLOUTS, 4),
        chunks: score?.count,
        history_events: m.timings.events,
        chunk_run_ms_mean: score?.run_ms_mean,
        chunk_queue_ms_mean: score?.queue_ms_mean,
        worker_cpu_ms: m.workerCpuMs,
        server_cpu_ms: m.serverCpuMs,
      });
    }
    const t = main.timings;
    return {
      bench: 'overhead',
      rollouts: ROLLOUTS,
      file_mb: round(bytes / 1e6, 1),
      workflow_ms: round(main.ms, 1),
      direct_ms: round(directMs, 1),
      overhead_ms_per_rollout: round((main.ms - directMs) / ROLLOUTS, 4),
      ratio: round(main.ms / directMs, 1),
      target_ms_per_rollout: 0.5,
      target_met: (main.ms - directMs) / ROLLOUTS < 0.5,
      chunks: t.activities.scoreChunk?.count ?? 0,
      history_events: t.events,
      config: { chunkSize: main.config.chunkSize, maxChunksPerStep: main.config.maxChunksPerStep, maxChunksInFlight: main.config.maxChunksInFlight, activitySlots: headline.slots },
      // Arbiter's step code without Temporal, and what Temporal adds on top of it.
      steps_ms: round(stepsRun.ms, 1),
      steps_breakdown_ms: { prepare: round(stepsRun.prepare_ms, 1), score: round(stepsRun.score_ms, 1), checkpoint: round(stepsRun.checkpoint_ms, 1) },
      steps_ms_per_rollout: round((stepsRun.ms - directMs) / ROLLOUTS, 4),
      temporal_ms_per_rollout: round((main.ms - stepsRun.ms) / ROLLOUTS, 4),
      // CPU used during the measured workflow: this process (worker + client) and the dev server.
      worker_cpu_ms: main.workerCpuMs,
      server_cpu_ms: main.serverCpuMs,
      history_span_ms: t.wall_ms,
      phases: t.activities,
      workflow_tasks: t.workflow_tasks,
      reward_mean: { workflow: main.rewardMean, direct: round(directMean, 6), steps: stepsRun.mean },
      warmup_workflow_ms: round(main.warmupMs, 1),
      variants: others,
      cpus: cpus().length,
    };
  } finally {
    await lazy.stop();
    await eagerServer?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Variant {
  name: string;
  chunkSize?: number;
  maxChunksInFlight?: number;
  slots: number;
  /** A dev server with `system.enableActivityEagerExecution=true`. */
  eager: boolean;
}

/**
 * Runs the step through `rftRun` on `server` with a fresh worker in this process: once on the
 * warm-up file, then measured on the real one; times it from the history.
 */
async function measureWorkflow(server: DevServer, bundle: { code: string }, v: Variant, dir: string, rolloutsDir: string, warmupDir: string) {
  const serverPid = devServerPid(server.address);
  const taskQueue = `bench-overhead-${v.name}`;
  const workerOptions = { taskQueue, workflowBundle: bundle, maxConcurrentActivityTaskExecutions: v.slots, allowedRolloutDirs: [tmpdir()] };
  return withBenchWorker(server, workerOptions, async (client) => {
    const knobs = { chunkSize: v.chunkSize, maxChunksInFlight: v.maxChunksInFlight };
    const run = async (workflowId: string, input: RunConfigInput) => {
      const started = performance.now();
      const handle = await client.workflow.start(rftRun, { taskQueue, workflowId, args: [input] });
      const res = (await handle.result()) as RunResult;
      return { ms: performance.now() - started, res };
    };
    const tag = v.name.replace(/[^A-Za-z0-9.-]/g, '_');
    const warm = await run(`overhead-warmup-${tag}-${Date.now()}`, runConfig(warmupDir, join(dir, 'out-wf'), `warmup-${tag}`, knobs));
    const workflowId = `overhead-${tag}-${Date.now()}`;
    const cpu0 = process.cpuUsage();
    const serverCpu0 = serverPid ? cpuMsOf(serverPid) : NaN;
    const { ms, res } = await run(workflowId, runConfig(rolloutsDir, join(dir, 'out-wf'), `measured-${tag}`, knobs));
    const cpu = process.cpuUsage(cpu0);
    const serverCpuMs = serverPid ? cpuMsOf(serverPid) - serverCpu0 : NaN;
    if (res.status !== 'completed' || res.totals.rollouts !== ROLLOUTS) throw new Error(`unexpected result: ${JSON.stringify(res)}`);
    const timings = historyTimings(await historyOf(client, workflowId));
    const workerCpuMs = Math.round((cpu.user + cpu.system) / 1000);
    note(`workflow [${v.name}${v.eager ? ', eager server' : ''}, ${v.slots} slots]: ${ms.toFixed(0)} ms (warm-up ${warm.ms.toFixed(0)} ms); cpu: worker ${workerCpuMs} ms, server ${serverCpuMs} ms; ${timings.events} events`);
    for (const [type, a] of Object.entries(timings.activities)) {
      note(
        `  ${type.padEnd(15)} x${String(a.count).padStart(4)}  span ${a.span_ms.toFixed(0).padStart(6)} ms  ` +
          `run mean ${a.run_ms_mean.toFixed(1)} ms (max ${a.run_ms_max.toFixed(0)}, sum ${a.run_ms_sum.toFixed(0)})  queue mean ${a.queue_ms_mean.toFixed(1)} ms`,
      );
    }
    const w = timings.workflow_tasks;
    note(`  workflow tasks  x${w.count}  run mean ${w.run_ms_mean} ms (max ${w.run_ms_max}, sum ${w.run_ms_sum})  queue mean ${w.queue_ms_mean} ms`);
    return {
      ms,
      warmupMs: warm.ms,
      timings,
      workerCpuMs,
      serverCpuMs,
      rewardMean: res.lastStep?.reward.mean,
      config: parseRunConfig(runConfig(rolloutsDir, dir, 'x', knobs)),
    };
  });
}

const quietBundleLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => note(`bundler: ${message}`),
  error: (message: string) => note(`bundler: ${message}`),
};

runBench(main);
