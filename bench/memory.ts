/**
 * Worker memory benchmark: `npm run bench:memory`.
 *
 * One step of 100,000 rollouts (prompts, responses and references of a few hundred characters:
 * a ~90 MB step file) through `rftRun` with the offline judge, the worker running as a CHILD
 * process exactly as `npm run worker` runs it (`node --import tsx src/worker/main.ts`, with
 * TEMPORAL_ADDRESS and ARBITER_TASK_QUEUE), on a dev server this benchmark starts.
 *
 * Memory is read from /proc/<worker pid>/status: VmRSS every 100 ms, and VmHWM (peak RSS) at
 * the end. Starting the worker bundles the workflows (webpack), which has its own peak; so
 * once the worker polls and settles, its baseline is read, and the peak is reset
 * (`echo 5 > /proc/<pid>/clear_refs`) so that the final VmHWM is the peak of the run itself.
 * The samples are matched against the activities' start and close times from the run's history,
 * so `rss_by_activity` says which activity the memory grew in.
 *
 * Prints one JSON line (target: worker peak RSS under 512 MiB); progress on stderr.
 *
 * `variants` repeats the run in the same benchmark with other workers: V8's old space capped
 * (`--max-old-space-size=256`: is the growth live data or uncollected garbage?), and a worker
 * that loads a prebuilt workflow bundle (bench/memory-worker.ts) instead of running webpack at
 * startup as src/worker/main.ts does.
 *
 * Knobs: BENCH_ROLLOUTS=100000  BENCH_CHUNK_SIZE (config default 64; the step caps at maxChunksPerStep 256)
 *   BENCH_WORKER_NODE_FLAGS='--max-old-space-size=256' (extra node flags of the headline's worker)
 *   BENCH_VARIANTS=none (headline only)  BENCH_ECHO_WORKER=1 (the worker's output on stderr)
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { connectSafely } from '../src/temporal/closed-connection';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { RunConfigInput } from '../src/config/run-config';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { type RunResult, rftRun } from '../workflows/rft-run';
import { historyOf } from '../test/support/run-chain';
import { benchServer, note, quietRuntime, round, runBench } from './harness';
import { eventMs } from './history-timings';
import { memoryOf } from './proc-stats';
import { writeStepFile } from './step-files';
import { arbiterDataConverter } from '../src/temporal/payload-compression';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 100_000);
const CHUNK_SIZE = process.env.BENCH_CHUNK_SIZE ? Number(process.env.BENCH_CHUNK_SIZE) : undefined;
const SAMPLE_MS = 100;
/** Extra node flags for the worker, e.g. `--max-old-space-size=256` (space-separated). */
const WORKER_NODE_FLAGS = (process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter((f) => f);
/** `none`: the headline only. */
const VARIANTS = process.env.BENCH_VARIANTS ?? 'all';
/** BENCH_ECHO_WORKER=1: the worker's output on stderr as it comes. */
const ECHO_WORKER = process.env.BENCH_ECHO_WORKER === '1';
const TARGET_MIB = 512;

interface Sample {
  at: number;
  rss: number;
}

/** The worker, as `npm run worker` starts it, minus npm. Resolves once it polls. */
function startWorker(address: string, taskQueue: string, v: Variant, bundlePath: string | undefined) {
  const child = spawn(process.execPath, [...v.nodeFlags, '--import', 'tsx', v.entry], {
    cwd: REPO,
    env: {
      ...process.env,
      // The bench's rollouts live in a temporary folder.
      ARBITER_ALLOWED_ROLLOUT_DIRS: tmpdir(),
      TEMPORAL_ADDRESS: address,
      ARBITER_TASK_QUEUE: taskQueue,
      ...(bundlePath && { ARBITER_WORKFLOW_BUNDLE: bundlePath }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
    if (ECHO_WORKER) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes('polling task queue')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`worker exited (code ${code}, signal ${signal}) before polling:\n${output}`)));
  });
  ready.catch(() => {});
  return {
    pid: child.pid!,
    ready,
    exited,
    output: () => output,
    /** SIGTERM (the worker shuts down gracefully), SIGKILL if it is still there after 15 s. */
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

interface Variant {
  name: string;
  /** Worker entry: `src/worker/main.ts` (as `npm run worker`) or the prebuilt-bundle worker. */
  entry: 'src/worker/main.ts' | 'bench/memory-worker.ts';
  nodeFlags: string[];
}

async function main(): Promise<Record<string, unknown>> {
  quietRuntime();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-memory-'));
  const generating = performance.now();
  const { bytes } = await writeStepFile(join(dir, 'rollouts'), 1, ROLLOUTS);
  note(`${ROLLOUTS} rollouts, ${(bytes / 2 ** 20).toFixed(1)} MiB step file, written in ${((performance.now() - generating) / 1000).toFixed(1)} s`);

  const headline: Variant = { name: 'headline', entry: 'src/worker/main.ts', nodeFlags: WORKER_NODE_FLAGS };
  const variants: Variant[] =
    VARIANTS === 'none'
      ? []
      : [
          { name: 'max-old-space-size=256', entry: 'src/worker/main.ts', nodeFlags: ['--max-old-space-size=256'] },
          { name: 'prebuilt-bundle', entry: 'bench/memory-worker.ts', nodeFlags: [] },
          { name: 'prebuilt-bundle,max-old-space-size=256', entry: 'bench/memory-worker.ts', nodeFlags: ['--max-old-space-size=256'] },
        ];
  let bundlePath: string | undefined;
  if (variants.some((v) => v.entry === 'bench/memory-worker.ts')) {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silent });
    bundlePath = join(dir, 'workflow-bundle.js');
    await writeFile(bundlePath, code);
  }

  const server = await benchServer();
  const connection = await connectSafely({ address: server.address });
  try {
    const client = new Client({ connection, dataConverter: arbiterDataConverter });
    const first = await measure(client, server.address, dir, headline, bundlePath);
    const others = [];
    for (const v of variants) {
      const m = await measure(client, server.address, dir, v, bundlePath);
      others.push({
        variant: v.name,
        worker_peak_rss_mib: m.worker_peak_rss_mib,
        worker_baseline_rss_mib: m.worker_baseline_rss_mib,
        worker_peak_over_baseline_mib: m.worker_peak_over_baseline_mib,
        target_met: m.target_met,
        wall_s: m.wall_s,
        activities_at_peak_sample: m.activities_at_peak_sample,
      });
    }
    return {
      bench: 'memory',
      rollouts: ROLLOUTS,
      file_mb: round(bytes / 1e6, 1),
      file_mib: round(bytes / 2 ** 20, 1),
      ...first,
      variants: others,
    };
  } finally {
    await connection.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One worker process, one run of the step; its memory from /proc. */
async function measure(client: Client, address: string, dir: string, v: Variant, bundlePath: string | undefined) {
  const taskQueue = `bench-memory-${v.name.replace(/[^A-Za-z0-9.-]/g, '_')}`;
  note(`[${v.name}] worker: ${[...v.nodeFlags, v.entry].join(' ')}`);
  const worker = startWorker(address, taskQueue, v, bundlePath);
  try {
    const startingWorker = performance.now();
    await worker.ready;
    note(`[${v.name}] worker ${worker.pid} polling after ${((performance.now() - startingWorker) / 1000).toFixed(1)} s`);
    await sleep(3000); // let startup garbage settle
    const startup = memoryOf(worker.pid);
    let hwmReset = true;
    try {
      writeFileSync(`/proc/${worker.pid}/clear_refs`, '5');
    } catch (err) {
      hwmReset = false;
      note(`could not reset the worker's peak RSS (${(err as Error).message}): worker_peak_rss_mib includes startup`);
    }
    const baseline = memoryOf(worker.pid);
    note(`[${v.name}] worker baseline RSS ${baseline.rss.toFixed(0)} MiB (startup peak ${startup.hwm.toFixed(0)} MiB${hwmReset ? ', peak reset' : ''})`);

    const samples: Sample[] = [];
    const sampler = setInterval(() => {
      try {
        samples.push({ at: Date.now(), rss: memoryOf(worker.pid).rss });
      } catch {
        // the worker is gone; the run will fail below
      }
    }, SAMPLE_MS);
    let lastNote = 0;
    const ticker = setInterval(() => {
      const last = samples.at(-1);
      if (last && last.at - lastNote > 9_000) {
        lastNote = last.at;
        note(`[${v.name}]   worker RSS ${last.rss.toFixed(0)} MiB (max so far ${Math.max(...samples.map((s) => s.rss)).toFixed(0)})`);
      }
    }, 1000);

    const workflowId = `memory-${taskQueue}-${Date.now()}`;
    const input: RunConfigInput = {
      runId: `memory-${taskQueue}`,
      steps: 1,
      rollouts: { type: 'directory', path: join(dir, 'rollouts') },
      judge: { provider: 'offline-heuristic', mode: 'rubric' },
      outputDir: join(dir, 'out'),
      ...(CHUNK_SIZE !== undefined && { chunkSize: CHUNK_SIZE }),
    };
    note(`[${v.name}] run: one step of ${ROLLOUTS} rollouts ...`);
    const started = performance.now();
    let res: RunResult;
    try {
      const handle = await client.workflow.start(rftRun, { taskQueue, workflowId, args: [input] });
      res = (await Promise.race([
        handle.result(),
        worker.exited.then(({ code, signal }) => {
          throw new Error(`worker exited during the run (code ${code}, signal ${signal}):\n${worker.output()}`);
        }),
      ])) as RunResult;
    } finally {
      clearInterval(sampler);
      clearInterval(ticker);
    }
    const wallS = (performance.now() - started) / 1000;
    const end = memoryOf(worker.pid);
    if (res.status !== 'completed' || res.totals.rollouts !== ROLLOUTS) throw new Error(`unexpected result: ${JSON.stringify(res)}`);
    const sampledPeak = Math.max(...samples.map((s) => s.rss));
    note(`[${v.name}] run done in ${wallS.toFixed(1)} s; worker peak RSS ${end.hwm.toFixed(0)} MiB (sampled max ${sampledPeak.toFixed(0)}), now ${end.rss.toFixed(0)} MiB`);

    // Which activity was running when memory grew.
    const events = await historyOf(client, workflowId);
    const scheduledType = new Map<string, string>();
    const startedAt = new Map<string, number>();
    const intervals: { type: string; from: number; to: number }[] = [];
    for (const e of events) {
      const id = e.eventId?.toString() ?? '';
      if (e.activityTaskScheduledEventAttributes) scheduledType.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      const st = e.activityTaskStartedEventAttributes;
      if (st) startedAt.set(st.scheduledEventId?.toString() ?? '', eventMs(e));
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const sid = done.scheduledEventId?.toString() ?? '';
        intervals.push({ type: scheduledType.get(sid) ?? '?', from: startedAt.get(sid) ?? eventMs(e), to: eventMs(e) });
      }
    }
    const byActivity: Record<string, { max_rss_mib: number; samples: number; ms: number }> = {};
    for (const i of intervals) {
      const a = (byActivity[i.type] ??= { max_rss_mib: 0, samples: 0, ms: 0 });
      a.ms += i.to - i.from;
    }
    for (const s of samples) {
      for (const type of new Set(intervals.filter((i) => i.from <= s.at && s.at <= i.to).map((i) => i.type))) {
        const a = byActivity[type]!;
        a.max_rss_mib = Math.max(a.max_rss_mib, round(s.rss, 1));
        a.samples++;
      }
    }
    for (const a of Object.values(byActivity)) a.ms = Math.round(a.ms);
    const peakSample = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const atPeak = [...new Set(intervals.filter((i) => i.from <= peakSample.at && peakSample.at <= i.to).map((i) => i.type))];
    note(
      `[${v.name}]   by activity: ${Object.entries(byActivity).map(([k, a]) => `${k} max ${a.max_rss_mib} MiB (${a.ms} ms)`).join('; ')}; ` +
        `at the peak sample: ${atPeak.join(', ') || 'between activities'}`,
    );

    const peak = hwmReset ? end.hwm : Math.max(sampledPeak, end.rss);
    return {
      worker_peak_rss_mib: round(peak, 1),
      worker_baseline_rss_mib: round(baseline.rss, 1),
      worker_peak_over_baseline_mib: round(peak - baseline.rss, 1),
      target_mib: TARGET_MIB,
      target_met: peak < TARGET_MIB,
      wall_s: round(wallS, 1),
      chunks: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreChunk').length,
      reward_mean: res.lastStep?.reward.mean,
      worker: [...v.nodeFlags, v.entry].join(' '),
      worker_peak_rss_sampled_mib: round(sampledPeak, 1),
      worker_rss_after_run_mib: round(end.rss, 1),
      worker_startup_peak_rss_mib: round(startup.hwm, 1),
      peak_reset_after_startup: hwmReset,
      rss_by_activity: byActivity,
      activities_at_peak_sample: atPeak,
      samples: samples.length,
    };
  } finally {
    await worker.stop();
  }
}

const silent = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

runBench(main);
