/**
 * Shared pieces of the Temporal benchmarks (`bench/overhead.ts`, `bench/history.ts`,
 * `bench/memory.ts`): a quiet runtime, a dev server of their own, rollout files, and reading a
 * run's history for event counts and activity timings. Not a test: nothing here asserts.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../src/devserver/start-dev-server';
import { stepReadyFile, stepRolloutFile } from '../src/contract/run-layout';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const T0 = Date.now();

/** Human-readable progress on stderr (stdout carries only the one JSON result line). */
export function note(message: string): void {
  process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

/** Worker/SDK logs at WARN and above, on stderr. Call before any connection is made. */
export function quietRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => process.stderr.write(`[temporal ${entry.level}] ${entry.message}\n`)),
  });
}

/** A dev server of the benchmark's own, on free loopback ports, in memory. */
export async function benchServer(dynamicConfig: string[] = []): Promise<DevServer> {
  const started = Date.now();
  const server = await startDevServer({ dynamicConfig, log: (line) => note(line) });
  note(`dev server at ${server.address} up in ${Date.now() - started} ms${dynamicConfig.length ? ` (${dynamicConfig.join(', ')})` : ''}`);
  return server;
}

const INNER = 'ARBITER_BENCH_INNER';
const RESULT_FD = 3;

/**
 * Runs a benchmark's `main` and prints its result as the one line on stdout, then exits.
 *
 * The Temporal CLI dev server writes a banner to the stdout it inherits from this process. So
 * that stdout carries only the result line, the benchmark runs itself again as a child whose
 * stdout is this process's stderr; the child hands its result line back on fd 3.
 */
export function runBench(main: () => Promise<Record<string, unknown>>): void {
  if (process.env[INNER] !== '1') {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, [INNER]: '1' },
      stdio: ['ignore', 2, 'inherit', 'pipe'],
    });
    let line = '';
    child.stdio[RESULT_FD]!.on('data', (chunk: Buffer) => (line += chunk.toString('utf8')));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => {
      if (line) process.stdout.write(line.endsWith('\n') ? line : line + '\n');
      process.exit(code ?? (signal ? 1 : 0));
    });
    return;
  }
  main().then(
    (values) => {
      writeSync(RESULT_FD, JSON.stringify(values) + '\n');
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------- processes (Linux /proc)

/** The pid of the dev server process listening on `address` (a child of this process), if found. */
export function devServerPid(address: string): number | undefined {
  const port = address.split(':').pop();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('start-dev') && args[args.indexOf('--port') + 1] === port) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** `VmRSS` and `VmHWM` of a process, in MiB. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

// ---------------------------------------------------------------- rollouts

const WORDS = (
  'the supplier may terminate agreement notice period written days clause liability cap indemnify party ' +
  'confidential information disclose governing law courts payment invoice within thirty late interest ' +
  'assignment consent force majeure event delay performance obligation breach remedy damages warranty ' +
  'exclusive license term renewal automatic unless either party gives prior material adverse change audit'
).split(' ');

/** Deterministic pseudo-random text (xorshift), so runs are comparable. */
function textOf(seed: number, chars: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const word = WORDS[x % WORDS.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, chars);
}

export interface RolloutSizes {
  prompt: number;
  response: number;
  reference: number;
}

export const DEFAULT_SIZES: RolloutSizes = { prompt: 240, response: 360, reference: 160 };

export function rolloutOf(step: number, i: number, sizes: RolloutSizes = DEFAULT_SIZES) {
  const id = `s${step}-r${i}`;
  return {
    id,
    prompt: `Flag the legal risk of clause ${i}: ${textOf(i * 3 + 1, sizes.prompt)}`,
    response: `[${id}] ${textOf(i * 3 + 2, sizes.response)}`,
    reference: textOf(i * 3 + 3, sizes.reference),
  };
}

/** Writes the trainer's `step-NNNNNN.jsonl` of `count` rollouts, streaming, then marks it ready; returns its path and size. */
export async function writeStepFile(
  dir: string,
  step: number,
  count: number,
  sizes: RolloutSizes = DEFAULT_SIZES,
): Promise<{ path: string; bytes: number }> {
  await mkdir(dir, { recursive: true });
  const path = stepRolloutFile(dir, step);
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    const BATCH = 2000;
    for (let from = 0; from < count; from += BATCH) {
      let text = '';
      for (let i = from; i < Math.min(count, from + BATCH); i++) text += JSON.stringify(rolloutOf(step, i, sizes)) + '\n';
      const buf = Buffer.from(text);
      bytes += buf.length;
      await file.write(buf);
    }
  } finally {
    await file.close();
  }
  await writeFile(stepReadyFile(dir, step), `${count}\n`);
  return { path, bytes };
}

// ---------------------------------------------------------------- histories

export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** Every run of a continue-as-new chain, first to last, with its events. */
export async function chainHistories(client: Client, workflowId: string, firstRunId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = await historyOf(client, workflowId, runId);
    runs.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return NaN;
  const seconds = typeof t.seconds === 'number' ? t.seconds : Number(t.seconds?.toString() ?? 0);
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

export function eventId(event: HistoryEvent): number {
  return Number(event.eventId?.toString() ?? 0);
}

/** The name of the event's attributes field, e.g. `activityTaskScheduled`. */
export function eventKind(event: HistoryEvent): string {
  for (const key of Object.keys(event)) {
    if (key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key]) return key.slice(0, -'EventAttributes'.length);
  }
  return 'unknown';
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export interface ActivityTiming {
  count: number;
  /** First scheduled to last completed, ms. */
  span_ms: number;
  /** Offset of the first scheduled event from the run's start, ms. */
  first_scheduled_at_ms: number;
  run_ms_sum: number;
  run_ms_mean: number;
  run_ms_max: number;
  /** Scheduled to started (queue latency), ms. */
  queue_ms_mean: number;
  queue_ms_max: number;
}

export interface HistoryTimings {
  events: number;
  wall_ms: number;
  kinds: Record<string, number>;
  activities: Record<string, ActivityTiming>;
  workflow_tasks: { count: number; queue_ms_mean: number; queue_ms_max: number; run_ms_mean: number; run_ms_max: number; run_ms_sum: number };
}

/**
 * Times a run's activities and workflow tasks from its history's event timestamps (the
 * server's clock): per activity type, how long each ran and waited in the task queue, and the
 * span from the first one scheduled to the last one completed.
 */
export function historyTimings(events: HistoryEvent[]): HistoryTimings {
  const t0 = events.length ? eventMs(events[0]!) : 0;
  const kinds: Record<string, number> = {};
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const acts: Record<string, { at: number[]; done: number[]; run: number[]; queue: number[] }> = {};
  const wftScheduled = new Map<number, number>();
  const wftStarted = new Map<number, { at: number; queue: number }>();
  const wftQueue: number[] = [];
  const wftRun: number[] = [];

  for (const e of events) {
    const kind = eventKind(e);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const at = eventMs(e);
    if (e.activityTaskScheduledEventAttributes) {
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      scheduled.set(eventId(e), { type, at });
      (acts[type] ??= { at: [], done: [], run: [], queue: [] }).at.push(at);
    } else if (e.activityTaskStartedEventAttributes) {
      started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId?.toString()), at);
    } else if (e.activityTaskCompletedEventAttributes) {
      const sid = Number(e.activityTaskCompletedEventAttributes.scheduledEventId?.toString());
      const s = scheduled.get(sid);
      const st = started.get(sid);
      if (s) {
        const a = acts[s.type]!;
        a.done.push(at);
        if (st !== undefined) {
          a.run.push(at - st);
          a.queue.push(st - s.at);
        }
      }
    } else if (e.workflowTaskScheduledEventAttributes) {
      wftScheduled.set(eventId(e), at);
    } else if (e.workflowTaskStartedEventAttributes) {
      const sid = Number(e.workflowTaskStartedEventAttributes.scheduledEventId?.toString());
      const s = wftScheduled.get(sid);
      wftStarted.set(eventId(e), { at, queue: s === undefined ? 0 : at - s });
    } else if (e.workflowTaskCompletedEventAttributes) {
      const st = wftStarted.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId?.toString()));
      if (st) {
        wftQueue.push(st.queue);
        wftRun.push(at - st.at);
      }
    }
  }

  const activities: Record<string, ActivityTiming> = {};
  for (const [type, a] of Object.entries(acts)) {
    const sum = a.run.reduce((x, y) => x + y, 0);
    activities[type] = {
      count: a.at.length,
      span_ms: r1(Math.max(...a.done) - Math.min(...a.at)),
      first_scheduled_at_ms: r1(Math.min(...a.at) - t0),
      run_ms_sum: r1(sum),
      run_ms_mean: r1(sum / Math.max(1, a.run.length)),
      run_ms_max: r1(Math.max(0, ...a.run)),
      queue_ms_mean: r1(a.queue.reduce((x, y) => x + y, 0) / Math.max(1, a.queue.length)),
      queue_ms_max: r1(Math.max(0, ...a.queue)),
    };
  }
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  return {
    events: events.length,
    wall_ms: events.length ? r1(eventMs(events.at(-1)!) - t0) : 0,
    kinds,
    activities,
    workflow_tasks: {
      count: wftRun.length,
      queue_ms_mean: r1(sum(wftQueue) / Math.max(1, wftQueue.length)),
      queue_ms_max: r1(Math.max(0, ...wftQueue)),
      run_ms_mean: r1(sum(wftRun) / Math.max(1, wftRun.length)),
      run_ms_max: r1(Math.max(0, ...wftRun)),
      run_ms_sum: r1(sum(wftRun)),
    },
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
