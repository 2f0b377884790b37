import { appendFile, readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { RolloutSchema, type Rollout } from '../config/rollout';
import { RewardRecordSchema, type JudgeFailureReason, type RewardRecord } from '../config/reward-record';
import { writeFileAtomic } from '../io/atomic-write';
import { readLines } from '../io/read-lines';
import type { Judge } from '../judges/judge';
import { composeReward } from '../rewards/compose';
import type { RunLayout } from '../run-layout';
import { parseChunkIndex } from './prepare-batch';

export interface ChunkResult {
  chunk: number;
  count: number;
  scored: number;
  fallback: number;
  excluded: number;
  failures: Partial<Record<JudgeFailureReason, number>>;
  inputTokens: number;
  outputTokens: number;
  /** Rollouts found already judged by an earlier attempt of this activity. */
  resumed: number;
}

/**
 * Scores one chunk of a step's batch. Results are appended to the chunk's partial file as they
 * finish, so an attempt that dies (worker crash, timeout) leaves its work behind and the next
 * attempt judges only what is missing.
 */
export async function scoreChunk(args: {
  layout: RunLayout;
  step: number;
  chunk: number;
  judge: Judge;
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}): Promise<ChunkResult> {
  const { layout, step, chunk, judge } = args;
  const ref = parseChunkIndex(await readFile(layout.chunkIndex(step), 'utf8'))[chunk];
  if (!ref) throw new Error(`step ${step} has no chunk ${chunk}`);
  const [start, end, count] = ref;

  const partialPath = layout.chunkRewards(step, chunk);
  const finished = await readFinished(partialPath);
  // Rewrite what survived, dropping a line torn by a crash, before appending to it.
  await writeFileAtomic(partialPath, [...finished.values()].map((r) => JSON.stringify(r) + '\n').join(''));

  const todo: Rollout[] = [];
  for await (const line of readLines(layout.batch(step), { start, end })) {
    if ('error' in line) throw new Error(`batch file of step ${step} is corrupt at chunk ${chunk}`);
    const rollout = RolloutSchema.parse(JSON.parse(line.text));
    if (!finished.has(rollout.id)) todo.push(rollout);
  }

  const resumed = finished.size;
  let done = resumed;
  args.onProgress?.(done, count);
  const limit = pLimit(args.concurrency);
  // Appends are serialised so lines never interleave.
  let appending: Promise<void> = Promise.resolve();
  await Promise.all(
    todo.map((rollout) =>
      limit(async () => {
        args.signal?.throwIfAborted();
        const judgement = await judge.judge(rollout, args.signal);
        const record = composeReward(step, rollout, judge, judgement);
        appending = appending.then(() => appendFile(partialPath, JSON.stringify(record) + '\n'));
        await appending;
        finished.set(record.id, record);
        args.onProgress?.(++done, count);
      }),
    ),
  );
  return summarise(chunk, [...finished.values()], resumed);
}

async function readFinished(path: string): Promise<Map<string, RewardRecord>> {
  const finished = new Map<string, RewardRecord>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return finished;
    throw err;
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const record = RewardRecordSchema.parse(JSON.parse(line));
      finished.set(record.id, record);
    } catch {
      // a torn last line from a crash: that rollout is judged again
    }
  }
  return finished;
}

function summarise(chunk: number, records: RewardRecord[], resumed: number): ChunkResult {
  const result: ChunkResult = {
    chunk,
    count: records.length,
    scored: 0,
    fallback: 0,
    excluded: 0,
    failures: {},
    inputTokens: 0,
    outputTokens: 0,
    resumed,
  };
  for (const r of records) {
    result[r.status]++;
    result.inputTokens += r.judge.inputTokens;
    result.outputTokens += r.judge.outputTokens;
    const reason = r.judge.failure?.reason;
    if (reason) result.failures[reason] = (result.failures[reason] ?? 0) + 1;
  }
  return result;
}
