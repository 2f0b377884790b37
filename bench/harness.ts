import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
/**
 * The one harness of every benchmark (`bench/*.ts`): progress notes on stderr, the result as one
 * JSON line on stdout, a quiet Temporal runtime, a dev server of the benchmark's own, a worker in
 * this process, and the environment knobs. Not a test: nothing here asserts.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { connectSafely } from '../src/temporal/closed-connection';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../src/temporal/dev-server/start-dev-server';
import { createArbiterWorker, type ArbiterWorkerOptions } from '../src/worker/create-worker';
import { workerSettingsFromEnv } from '../src/config/worker-settings';
import { spawnWorker } from '../test/helpers/processes';
import { arbiterDataConverter } from '../src/temporal/payload-compression';

const T0 = Date.now();

/** Human-readable progress on stderr (stdout carries only the one JSON result line). */
// Benchmarks write their runs into temporary folders: the worker may write there.
process.env.ARBITER_ALLOWED_OUTPUT_DIRS ??= [tmpdir(), process.cwd()].join(',');

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

/**
 * Runs `body` with an Arbiter worker in this process polling `taskQueue` on `server`, and a
 * client of the same server. The benchmark's rollouts live in temporary folders, so the worker
 * may read `allowedRolloutDirs`.
 */
export async function withBenchWorker<T>(
  server: DevServer,
  options: Omit<ArbiterWorkerOptions, 'connection' | 'settings'> & { allowedRolloutDirs: string[] },
  body: (client: Client) => Promise<T>,
): Promise<T> {
  const connection = await connectSafely(benchConnectionOptions(server.address));
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  try {
    const { allowedRolloutDirs, ...workerOptions } = options;
    const worker = await createArbiterWorker({
      ...workerOptions,
      connection: nativeConnection,
      settings: { ...workerSettingsFromEnv(), allowedRolloutDirs },
    });
    return await worker.runUntil(body(new Client({ connection, dataConverter: arbiterDataConverter })));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

/**
 * Runs `body` with an Arbiter worker in a process of its own (`node --import tsx
 * src/worker/main.ts`, as `npm run worker` deploys it) polling `taskQueue` on `server`, and a
 * client of the same server in this process. The worker inherits this process's environment
 * as it is now (a fake Bedrock's endpoint, for one).
 */
export async function withWorkerProcess<T>(server: DevServer, taskQueue: string, body: (client: Client) => Promise<T>): Promise<T> {
  const worker = spawnWorker({ TEMPORAL_ADDRESS: server.address, ARBITER_TASK_QUEUE: taskQueue });
  const connection = await connectSafely(benchConnectionOptions(server.address));
  try {
    await worker.ready;
    return await body(new Client({ connection, dataConverter: arbiterDataConverter }));
  } finally {
    await connection.close();
    // Shut down as an operator would (SIGTERM: the worker drains), so flags such as --cpu-prof
    // (ARBITER_WORKER_NODE_ARGS) write their output; killed if it takes longer than 10 s.
    worker.process.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(10_000)]);
    await worker.kill();
  }
}

/**
 * Benchmarks read whole histories: a page of large Updates (up to 200 KiB of rollouts each) can
 * pass gRPC's default 4 MiB per message (temporalio/features#487), so their client takes 64 MiB.
 */
function benchConnectionOptions(address: string) {
  return { address, channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } };
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

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A positive number from the environment, for exploring a benchmark's knobs without editing it (e.g. BENCH_ROLLOUTS=200). */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}
