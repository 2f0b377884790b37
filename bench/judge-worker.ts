/**
 * One Arbiter worker process of the benchmark's multi-process variants (`arbiter-2proc`):
 * forked by bench/judge.ts with `node --import tsx`, it scores its share of the step's chunks
 * with the same chunk code as a Temporal worker's scoreChunk activity, against the fake
 * Bedrock the parent runs (AWS_ENDPOINT_URL_BEDROCK_RUNTIME and test credentials come from the
 * parent's environment).
 *
 * Protocol (IPC): parent sends `start` → worker builds its judge and answers `ready` → parent
 * sends `go` (to both workers at once) → each of the worker's `slots` asks `want` and gets a
 * `chunk` (a number, or null when the step's queue is empty), as activity slots poll a task
 * queue → worker answers `done` with its outcome and exits.
 */
import { buildJudge } from '../src/judges/build-judge';
import { limiterSnapshots } from '../src/judges/model-registry';
import type { RunConfig } from '../src/config/run-config';
import { pullChunks, type ChunksOutcome } from './chunk-slots';

export interface WorkerStart {
  type: 'start';
  config: RunConfig;
  /** Chunk activities this worker runs at once. */
  slots: number;
}
/** The parent's answer to `want`: the next chunk of the step, or null when none is left. */
export interface WorkerChunk {
  type: 'chunk';
  request: number;
  chunk: number | null;
}
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'want'; request: number }
  | { type: 'done'; outcome: ChunksOutcome; seconds: number; limiter: ReturnType<typeof limiterSnapshots> }
  | { type: 'error'; message: string };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())));
}

function next<T>(type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (message: { type?: string }): void => {
      if (message?.type !== type) return;
      process.off('message', on);
      resolve(message as T);
    };
    process.on('message', on);
  });
}

let requests = 0;
const pending = new Map<number, (chunk: number | undefined) => void>();
process.on('message', (message: WorkerChunk) => {
  if (message?.type !== 'chunk') return;
  pending.get(message.request)?.(message.chunk ?? undefined);
  pending.delete(message.request);
});

function askForChunk(): Promise<number | undefined> {
  const request = ++requests;
  return new Promise((resolve, reject) => {
    pending.set(request, resolve);
    send({ type: 'want', request }).catch(reject);
  });
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/judge-worker.ts is started by bench/judge.ts (needs an IPC channel)');
  const start = await next<WorkerStart>('start');
  const judge = await buildJudge(start.config.judge, {});
  try {
    await send({ type: 'ready' });
    await next('go');
    const began = performance.now();
    const outcome = await pullChunks({ config: start.config, judge, slots: start.slots, next: askForChunk });
    const seconds = (performance.now() - began) / 1000;
    await send({ type: 'done', outcome, seconds, limiter: limiterSnapshots() });
  } finally {
    await judge.close();
  }
}

main().then(
  () => {
    process.disconnect?.();
    // The judge runtime keeps its Bedrock client (HTTP/2 session) for the process's lifetime.
    process.exit(0);
  },
  async (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    try {
      if (process.send) await send({ type: 'error', message });
    } finally {
      console.error(message);
      process.exit(1);
    }
  },
);
