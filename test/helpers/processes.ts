import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { untilServerAnswers } from '../../src/temporal/dev-server/start-dev-server';
import { ARBITER_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { TEST_WORKER_ENV } from './worker-settings';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const KEEP_OUTPUT_CHARS = 20_000;

/** A child process of a fault test: its output kept, its exit awaited, killable by pid only. */
export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** The last few thousand characters of stdout and stderr, interleaved. */
  output(): string;
  /** SIGKILLs the process (if still running) and waits for it to be gone. */
  kill(): Promise<void>;
}

const children = new Set<Child>();

function track(name: string, proc: ChildProcess): Child {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-KEEP_OUTPUT_CHARS);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    proc.once('error', (err) => {
      running = false;
      output += `\n[spawn error] ${err.message}`;
      resolve({ code: null, signal: null });
    });
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn`);
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid,
    exited,
    isRunning: () => running,
    output: () => output,
    async kill() {
      if (running) proc.kill('SIGKILL');
      await exited;
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** Kills every child process these helpers started and that is still running (afterAll/finally). */
export async function killChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.kill()));
}

/**
 * `npm run worker` without npm: `node --import tsx src/worker/main.ts`, so a SIGKILL hits the
 * worker itself (no wrapper process in between). It runs in the repository unless `cwd` names
 * another working directory (a worker that shares no folder with the others).
 */
export function spawnWorker(env: Record<string, string>, options: { cwd?: string } = {}): Child & { ready: Promise<void> } {
  // ARBITER_WORKER_NODE_ARGS: flags for the worker's node only (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
  const nodeArgs = process.env.ARBITER_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // By file, not by package name: `--import tsx` is resolved from the working directory.
  const tsx = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const proc = spawn(process.execPath, [...nodeArgs, '--import', tsx, join(REPO, 'src', 'worker', 'main.ts')], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...TEST_WORKER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = track(`worker ${proc.pid}`, proc);
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (seen.includes('polling task queue')) {
        proc.stdout?.off('data', onData);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    void child.exited.then(({ code, signal }) =>
      reject(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal}) before polling:\n${child.output()}`)),
    );
  });
  ready.catch(() => {}); // observed by whoever awaits it; a later kill must not be an unhandled rejection
  return Object.assign(child, { ready });
}

export interface DevServerProcessOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  dbFilename: string;
}

/** `temporal server start-dev` on loopback with Arbiter's search attributes and a SQLite file. */
export function spawnDevServer(options: DevServerProcessOptions): Child {
  const searchAttributes = ARBITER_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${typeName(key.type)}`]);
  const proc = spawn(
    options.cliPath,
    [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(options.port),
      '--ui-port', String(options.uiPort),
      '--headless',
      '--db-filename', options.dbFilename,
      '--log-level', 'warn',
      ...searchAttributes,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return track(`dev server ${proc.pid}`, proc);
}

/** 'INT' -> 'Int', 'KEYWORD' -> 'Keyword', ... as `--search-attribute` spells the types. */
function typeName(valueType: string): string {
  return valueType.charAt(0) + valueType.slice(1).toLowerCase();
}

/** Waits until a Temporal frontend at `address` answers getSystemInfo (failing at once if `server` exits). */
export function waitForServer(address: string, timeoutMs = 60_000, server?: Child): Promise<void> {
  return untilServerAnswers(address, timeoutMs, () => (server && !server.isRunning() ? `${server.name} exited while starting:\n${server.output()}` : undefined));
}

/** Activities of a finished workflow that needed more than one attempt: `type#attempt (last failure)`. */
export async function retriedActivities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const retried: string[] = [];
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) {
      const type = scheduled.get(String(started.scheduledEventId)) ?? '?';
      retried.push(`${type}#${started.attempt} (${started.lastFailure?.message ?? '?'})`);
    }
  }
  return retried;
}
