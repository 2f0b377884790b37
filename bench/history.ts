/**
 * History growth benchmark: `npm run bench:history`.
 *
 * How many workflow history events a step costs, and whether a long run stays well under
 * Temporal's limits (target: the largest history of any run in the chain well under 10,000
 * events). On a dev server this benchmark starts, with a worker in this process:
 *
 *  long        1,000 steps of 4 rollouts (offline judge, directory source), default config:
 *              continueAsNewEverySteps 200, or earlier when Temporal suggests it.
 *  suggested   the same 1,000 steps with continueAsNewEverySteps out of the way (10^6): only
 *              Temporal's own suggestion (workflowInfo().continueAsNewSuggested) starts a fresh
 *              history. Skipped with BENCH_SUGGESTED=0.
 *  wide        one step of 5,000 rollouts with chunkSize 20 (250 chunks), and one with chunkSize 5,
 *              which would be 1,000 chunks but maxChunksPerStep (256) caps: per-step history is
 *              bounded however large the step.
 *  wide-chain  6 such steps (chunkSize 20) in one run: continue-as-new is checked between steps,
 *              so a run's history can pass Temporal's suggestion by up to one step's events.
 *
 * Events per step are counted between consecutive checkpointStep completions in each run's
 * history. Prints one JSON line; progress on stderr.
 *
 * Knobs: BENCH_STEPS=1000  BENCH_ROLLOUTS_PER_STEP=4  BENCH_SUGGESTED=0|1  BENCH_WIDE_ROLLOUTS=5000
 *   BENCH_WIDE_CHAIN_STEPS=6  BENCH_DYNAMIC_CONFIG (default history.transferProcessorMaxPollRPS=1000; empty for the plain dev server)
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { RunConfigInput } from '../src/config/run-config';
import { RunLayout } from '../src/contract/run-layout';
import { progressQuery } from '../workflows/definitions';
import { type RunResult, rftRun } from '../workflows/rft-run';
import { chainHistories, type HistoryEvent } from '../test/support/run-chain';
import { benchServer, median, note, quietRuntime, round, runBench, withBenchWorker } from './harness';
import { eventId, eventKind, historyTimings } from './history-timings';
import { writeStepFile } from './step-files';

const STEPS = Number(process.env.BENCH_STEPS ?? 1000);
const PER_STEP = Number(process.env.BENCH_ROLLOUTS_PER_STEP ?? 4);
const SUGGESTED = process.env.BENCH_SUGGESTED !== '0';
const WIDE_ROLLOUTS = Number(process.env.BENCH_WIDE_ROLLOUTS ?? 5000);
const WIDE_CHAIN_STEPS = Number(process.env.BENCH_WIDE_CHAIN_STEPS ?? 6);
const TASK_QUEUE = 'bench-history';
/**
 * Dev-server dynamic config, `KEY=VALUE,KEY=VALUE` (empty: none). By default the single-shard dev
 * server's transfer queue is polled faster than its 20/s: otherwise every activity and workflow
 * task waits ~40 ms to be dispatched and 1,000 steps take ~7 minutes per chain. Event counts do
 * not depend on it (25 per step either way).
 */
const DYNAMIC_CONFIG = (process.env.BENCH_DYNAMIC_CONFIG ?? 'history.transferProcessorMaxPollRPS=1000').split(',').filter((kv) => kv);

/** Per-step event counts of one run: events up to and including each checkpointStep completion. */
function stepEventCounts(events: HistoryEvent[]): number[] {
  const checkpointIds = new Set<number>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkpointStep') checkpointIds.add(eventId(e));
  }
  const counts: number[] = [];
  let last = 0;
  for (const e of events) {
    const sid = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() ?? NaN);
    if (checkpointIds.has(sid)) {
      counts.push(eventId(e) - last);
      last = eventId(e);
    }
  }
  return counts;
}

/** The event id of the first workflow task on which the server suggested continue-as-new. */
function firstSuggestion(events: HistoryEvent[]): number | undefined {
  const e = events.find((x) => x.workflowTaskStartedEventAttributes?.suggestContinueAsNew);
  return e ? eventId(e) : undefined;
}

interface ChainReport {
  steps: number;
  rollouts_per_step: number;
  continue_as_new_every_steps: number | 'default (200)';
  wall_s: number;
  steps_per_s: number;
  runs_in_chain: number;
  history_lengths: number[];
  largest_history: number;
  steps_per_run: number[];
  /** What ended each run but the last: the step count, or Temporal's suggestion. */
  continued_because: string[];
  /** Event id of the first workflow task with suggestContinueAsNew, per run (null: never). */
  suggested_at_event: (number | null)[];
  events_per_step_median: number;
  events_per_step_min: number;
  events_per_step_max: number;
  /** (history length - steps) / steps of the longest run: fixed per-run events spread in. */
  events_per_step_longest_run: number;
  event_kinds_per_step: Record<string, number>;
  history_bytes_largest: number;
  /** Where a step's time goes (first run): per activity type, mean run and queue (schedule-to-start) ms. */
  step_time_ms: Record<string, { run: number; queue: number }>;
  /** The same for the last run of the chain (the manifest is longest then). */
  step_time_ms_last_run: Record<string, { run: number; queue: number }>;
  manifest_bytes: number;
}

function stepTime(events: HistoryEvent[]): Record<string, { run: number; queue: number }> {
  const t = historyTimings(events);
  const out: Record<string, { run: number; queue: number }> = {};
  for (const [type, a] of Object.entries(t.activities)) out[type] = { run: a.run_ms_mean, queue: a.queue_ms_mean };
  out.workflowTask = { run: t.workflow_tasks.run_ms_mean, queue: t.workflow_tasks.queue_ms_mean };
  return out;
}

async function runChainBench(client: Client, dir: string, name: string, continueAsNewEverySteps: number | undefined): Promise<ChainReport> {
  const workflowId = `history-${name}-${Date.now()}`;
  const input: RunConfigInput = {
    runId: name,
    steps: STEPS,
    rollouts: { type: 'directory', path: join(dir, 'rollouts') },
    judge: { provider: 'offline-heuristic', mode: 'rubric' },
    outputDir: join(dir, `out-${name}`),
    ...(continueAsNewEverySteps !== undefined && { continueAsNewEverySteps }),
  };
  note(`[${name}] ${STEPS} steps x ${PER_STEP} rollouts, continueAsNewEverySteps ${continueAsNewEverySteps ?? 'default'} ...`);
  const started = performance.now();
  const handle = await client.workflow.start(rftRun, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
  const ticker = setInterval(() => {
    void client.workflow
      .getHandle(workflowId)
      .query(progressQuery)
      .then(
        (p) => note(`[${name}]   step ${p.stepsDone}/${STEPS}, ${((performance.now() - started) / 1000).toFixed(0)} s`),
        () => {},
      );
  }, 15_000);
  let res: RunResult;
  try {
    res = (await handle.result()) as RunResult;
  } finally {
    clearInterval(ticker);
  }
  const wallMs = performance.now() - started;
  if (res.status !== 'completed' || res.stepsDone !== STEPS) throw new Error(`[${name}] unexpected result ${JSON.stringify(res)}`);

  const runs = await chainHistories(client, workflowId, handle.firstExecutionRunId);
  const lengths = runs.map((r) => r.length);
  const perRun = runs.map(stepEventCounts);
  const stepsPerRun = perRun.map((c) => c.length);
  // Steps after the first of each run: the first also carries the run's start events.
  const inner = perRun.flatMap((c) => c.slice(1));
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a));
  const longestSteps = stepEventCounts(longest).length;
  const kinds: Record<string, number> = {};
  for (const e of longest) kinds[eventKind(e)] = (kinds[eventKind(e)] ?? 0) + 1;
  const largestBytes = Math.max(...runs.map((r) => proto.temporal.api.history.v1.History.encode({ events: r }).finish().length));
  const report: ChainReport = {
    steps: STEPS,
    rollouts_per_step: PER_STEP,
    continue_as_new_every_steps: continueAsNewEverySteps ?? 'default (200)',
    wall_s: round(wallMs / 1000, 1),
    steps_per_s: round(STEPS / (wallMs / 1000), 2),
    runs_in_chain: runs.length,
    history_lengths: lengths,
    largest_history: Math.max(...lengths),
    steps_per_run: stepsPerRun,
    continued_because: runs.slice(0, -1).map((r, i) => {
      const every = continueAsNewEverySteps ?? 200;
      return stepsPerRun[i]! >= every ? `steps (${every})` : `temporal suggestion (at event ${firstSuggestion(r) ?? '?'})`;
    }),
    suggested_at_event: runs.map((r) => firstSuggestion(r) ?? null),
    events_per_step_median: median(inner),
    events_per_step_min: Math.min(...inner),
    events_per_step_max: Math.max(...inner),
    events_per_step_longest_run: round(longest.length / longestSteps, 2),
    event_kinds_per_step: Object.fromEntries(Object.entries(kinds).map(([k, n]) => [k, round(n / longestSteps, 2)])),
    history_bytes_largest: largestBytes,
    step_time_ms: stepTime(runs[0]!),
    step_time_ms_last_run: stepTime(runs.at(-1)!),
    manifest_bytes: (await stat(RunLayout.of(join(dir, `out-${name}`), name).manifest)).size,
  };
  const describe = (t: Record<string, { run: number; queue: number }>) => Object.entries(t).map(([k, v]) => `${k} run ${v.run} queue ${v.queue}`).join('; ');
  note(`[${name}] time per step, mean ms, first run: ${describe(report.step_time_ms)}`);
  note(`[${name}] time per step, mean ms, last run: ${describe(report.step_time_ms_last_run)}; manifest ${report.manifest_bytes} bytes`);
  note(
    `[${name}] ${report.wall_s} s (${report.steps_per_s} steps/s); ${runs.length} runs, lengths ${lengths.join(', ')}; ` +
      `events/step median ${report.events_per_step_median} (min ${report.events_per_step_min}, max ${report.events_per_step_max}); ` +
      `continued because: ${report.continued_because.join('; ')}`,
  );
  return report;
}

/** Runs `name` to its end with the offline judge on the step files in `dir/<rollouts>`: its result, the histories of its chain, its wall time. */
async function runOffline(client: Client, dir: string, name: string, rollouts: string, knobs: Pick<RunConfigInput, 'steps' | 'chunkSize'>) {
  const workflowId = `history-${name}-${Date.now()}`;
  const started = performance.now();
  const input: RunConfigInput = {
    runId: name,
    rollouts: { type: 'directory', path: join(dir, rollouts) },
    judge: { provider: 'offline-heuristic', mode: 'rubric' },
    outputDir: join(dir, `out-${name}`),
    ...knobs,
  };
  const handle = await client.workflow.start(rftRun, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
  const res = (await handle.result()) as RunResult;
  const wallMs = performance.now() - started;
  return { res, wallMs, runs: await chainHistories(client, workflowId, handle.firstExecutionRunId) };
}

async function wideStep(client: Client, dir: string, chunkSize: number) {
  const name = `wide-c${chunkSize}`;
  const { res, wallMs, runs } = await runOffline(client, dir, name, 'wide', { steps: 1, chunkSize });
  if (res.totals.rollouts !== WIDE_ROLLOUTS) throw new Error(`[${name}] unexpected result ${JSON.stringify(res)}`);
  const [events] = runs;
  const chunks = events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreChunk').length;
  const stepEvents = stepEventCounts(events!)[0]!;
  const out = {
    rollouts: WIDE_ROLLOUTS,
    chunk_size: chunkSize,
    chunks_requested: Math.ceil(WIDE_ROLLOUTS / chunkSize),
    chunks,
    step_events: stepEvents,
    run_events: events!.length,
    events_per_chunk: round(stepEvents / chunks, 2),
    wall_s: round(wallMs / 1000, 1),
  };
  note(`[${name}] ${WIDE_ROLLOUTS} rollouts, chunkSize ${chunkSize}: ${chunks} chunks (requested ${out.chunks_requested}), step ${stepEvents} events, run ${events!.length} events, ${out.wall_s} s`);
  return out;
}

/** Several wide steps in one run: how far past Temporal's suggestion a history can get before the run continues as new. */
async function wideChain(client: Client, dir: string) {
  const name = 'wide-chain';
  const { res, wallMs, runs } = await runOffline(client, dir, name, 'wide-chain', { steps: WIDE_CHAIN_STEPS, chunkSize: 20 });
  if (res.stepsDone !== WIDE_CHAIN_STEPS) throw new Error(`[${name}] unexpected result ${JSON.stringify(res)}`);
  const out = {
    steps: WIDE_CHAIN_STEPS,
    rollouts_per_step: WIDE_ROLLOUTS,
    chunk_size: 20,
    history_lengths: runs.map((r) => r.length),
    largest_history: Math.max(...runs.map((r) => r.length)),
    steps_per_run: runs.map((r) => stepEventCounts(r).length),
    events_per_step: runs.map(stepEventCounts),
    suggested_at_event: runs.map((r) => firstSuggestion(r) ?? null),
    wall_s: round(wallMs / 1000, 1),
  };
  note(`[${name}] ${WIDE_CHAIN_STEPS} steps of ${WIDE_ROLLOUTS}: runs ${out.history_lengths.join(', ')} events (steps ${out.steps_per_run.join(', ')}; suggested at ${out.suggested_at_event.join(', ')}), ${out.wall_s} s`);
  return out;
}

async function main(): Promise<Record<string, unknown>> {
  quietRuntime();
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-history-'));
  for (let step = 1; step <= STEPS; step++) await writeStepFile(join(dir, 'rollouts'), step, PER_STEP);
  const wide = await writeStepFile(join(dir, 'wide'), 1, WIDE_ROLLOUTS);
  for (let step = 1; step <= WIDE_CHAIN_STEPS; step++) await writeStepFile(join(dir, 'wide-chain'), step, WIDE_ROLLOUTS);
  note(`${STEPS} step files of ${PER_STEP} rollouts and one of ${WIDE_ROLLOUTS} (${(wide.bytes / 1e6).toFixed(1)} MB) in ${dir}`);

  const server = await benchServer(DYNAMIC_CONFIG);
  try {
    return await withBenchWorker(server, { taskQueue: TASK_QUEUE, allowedRolloutDirs: [dir] }, async (client) => {
      const wideC20 = await wideStep(client, dir, 20);
      const wideC5 = await wideStep(client, dir, 5);
      const chainOfWide = WIDE_CHAIN_STEPS > 0 ? await wideChain(client, dir) : undefined;
      const long = await runChainBench(client, dir, 'default', undefined);
      const suggested = SUGGESTED ? await runChainBench(client, dir, 'suggested', 1_000_000) : undefined;
      const largest = Math.max(long.largest_history, suggested?.largest_history ?? 0, chainOfWide?.largest_history ?? 0);
      return {
        bench: 'history',
        server_dynamic_config: DYNAMIC_CONFIG,
        steps: STEPS,
        rollouts_per_step: PER_STEP,
        events_per_step_median: long.events_per_step_median,
        largest_history: largest,
        largest_history_tiny_steps: long.largest_history,
        target_largest_history: 10_000,
        target_met: largest < 10_000,
        runs_in_chain: long.runs_in_chain,
        wall_s: long.wall_s,
        default: long,
        ...(suggested && { suggested_only: suggested }),
        wide_step: [wideC20, wideC5],
        ...(chainOfWide && { wide_chain: chainOfWide }),
        total_wall_s: round((performance.now() - t0) / 1000, 1),
      };
    });
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
