import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { RolloutSchema, type Rollout } from '../config/rollout';
import { RewardRecordSchema, type JudgeFailureReason, type RewardRecord } from '../config/reward-record';
import type { RunConfig } from '../config/run-config';
import type { JudgeHandle } from '../engine/build-judge';
import { writeFileAtomic } from '../io/atomic-write';
import { BatchedAppender } from '../io/batched-appender';
import { readLines } from '../io/read-lines';
import { planPairs, winRates, type PreferenceOutcome } from '../judges/preference';
import { composeReward, type JudgeVerdict } from '../rewards/compose';
import type { RunLayout } from '../run-layout';
import { readBatchKey } from './batch-key';
import { groupKey } from './group-key';
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
  /** Judgements taken from the cache instead of the model. */
  cached: number;
}

/** The judge's credentials were refused: no later call can succeed, so the chunk stops at once. */
export class JudgeAuthError extends Error {
  override name = 'JudgeAuthError';
}

export interface ScoreChunkArgs {
  layout: RunLayout;
  runId: string;
  step: number;
  chunk: number;
  /** The batch key the workflow got from prepareStep; the work folder must still hold that batch. */
  batch?: string;
  judge: JudgeHandle;
  rewards: RunConfig['rewards'];
  fallback: RunConfig['fallback'];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores one chunk of a step's batch. Results are appended to the chunk's partial file as they
 * finish (a whole preference group at a time), so an attempt that dies leaves its work behind
 * and the next attempt judges only what is missing.
 */
export async function scoreChunk(args: ScoreChunkArgs): Promise<ChunkResult> {
  const { layout, step, chunk } = args;
  const key = await readBatchKey(layout, step, args.batch);
  const ref = parseChunkIndex(await readFile(layout.chunkIndex(step), 'utf8'))[chunk];
  if (!ref) throw new Error(`step ${step} has no chunk ${chunk}`);
  const [start, end, count] = ref;

  const partialPath = layout.chunkRewards(step, chunk, key);
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
  let cached = 0;
  args.onProgress?.(done, count);
  const appender = new BatchedAppender(partialPath);
  const write = (records: RewardRecord[]) => {
    appender.add(records.map((r) => JSON.stringify(r) + '\n'));
    for (const r of records) {
      finished.set(r.id, r);
      if (r.judge.cached) cached++;
    }
    done += records.length;
    args.onProgress?.(done, count);
  };

  const limit = pLimit(args.judge.concurrency);
  // One refused credential means every queued call would be refused too: stop them all.
  const refused = new AbortController();
  const guarded = <T>(task: () => Promise<T>) => async () => {
    refused.signal.throwIfAborted();
    try {
      return await task();
    } catch (err) {
      if (err instanceof JudgeAuthError) refused.abort(err);
      throw err;
    }
  };
  try {
    if (args.judge.mode === 'rubric') {
      await Promise.all(todo.map((rollout) => limit(guarded(() => scoreAlone(args, rollout).then((r) => write([r]))))));
    } else {
      const groups = groupRollouts(todo);
      await Promise.all(groups.map((group) => scoreGroup(args, group, (fn) => limit(guarded(fn))).then(write)));
    }
  } finally {
    // What finished before a failure is kept for the next attempt.
    await appender.close();
  }
  return summarise(chunk, [...finished.values()], resumed, cached);
}

async function scoreAlone(args: ScoreChunkArgs, rollout: Rollout): Promise<RewardRecord> {
  args.signal?.throwIfAborted();
  const judgement = await args.judge.rubric(rollout, args.signal);
  failFastOnAuth(judgement);
  const verdict: JudgeVerdict = judgement.ok
    ? { ...judgement, score: judgement.score, rationale: judgement.rationale }
    : { ...judgement, reason: judgement.reason };
  return compose(args, rollout, verdict);
}

/**
 * Preference mode: every planned pair of the group is compared (both orders, inside the
 * judge), and each response's reward is its win rate in the group.
 */
async function scoreGroup(
  args: ScoreChunkArgs,
  group: Rollout[],
  limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<RewardRecord[]> {
  const byId = new Map(group.map((r) => [r.id, r]));
  const ids = group.map((r) => r.id);
  const pairs = planPairs(ids, { maxPairsPerGroup: args.judge.maxPairsPerGroup, seed: `${args.runId}:${args.step}:${groupKey(group[0]!)}` });
  const outcomes: (PreferenceOutcome & { cached?: boolean })[] = await Promise.all(
    pairs.map(([a, b]) =>
      limit(async () => {
        args.signal?.throwIfAborted();
        const outcome = await args.judge.compare(byId.get(a)!, byId.get(b)!, args.signal);
        failFastOnAuth(outcome);
        return outcome;
      }),
    ),
  );
  const report = winRates(ids, outcomes);
  const share = (n: number) => n / Math.max(1, group.length);
  return report.rates.map((rate) => {
    const rollout = byId.get(rate.id)!;
    const mine = outcomes.filter((o) => o.a === rate.id || o.b === rate.id);
    // A pair's calls and tokens are booked to its first response, so step totals count each once.
    const booked = outcomes.filter((o) => o.a === rate.id);
    const cost = {
      usage: {
        inputTokens: booked.reduce((n, o) => n + o.usage.inputTokens, 0),
        outputTokens: booked.reduce((n, o) => n + o.usage.outputTokens, 0),
      },
      latencyMs: share(report.latencyMs),
      attempts: booked.reduce((n, o) => n + o.attempts, 0),
      cached: mine.length > 0 && mine.every((o) => o.cached),
    };
    const flags = rate.inconsistent > 0 ? ['inconsistent'] : [];
    if (rate.noComparisons) {
      const failure = report.failures.find((f) => f.a === rate.id || f.b === rate.id);
      return compose(args, rollout, {
        ok: false,
        ...cost,
        reason: failure?.reason,
        message: failure ? failure.message : 'no comparison possible: the response has no other response to its prompt',
        flags: failure ? flags : [...flags, 'no-comparisons'],
      });
    }
    const rationale = `won ${rate.wins}, tied ${rate.ties}, lost ${rate.losses} of ${rate.comparisons} comparisons` +
      (rate.inconsistent ? ` (${rate.inconsistent} flipped with the order)` : '') +
      (rate.failed ? `; ${rate.failed} comparisons failed` : '');
    return compose(args, rollout, { ok: true, ...cost, score: rate.reward, rationale, flags });
  });
}

function compose(args: ScoreChunkArgs, rollout: Rollout, verdict: JudgeVerdict): RewardRecord {
  return composeReward({ step: args.step, rollout, judge: args.judge.identity, verdict, rewards: args.rewards, fallback: args.fallback });
}

function failFastOnAuth(outcome: { ok: boolean; reason?: JudgeFailureReason; message?: string }): void {
  if (!outcome.ok && outcome.reason === 'auth') {
    throw new JudgeAuthError(`the judge refused our credentials: ${outcome.message ?? ''}`);
  }
}

function groupRollouts(rollouts: Rollout[]): Rollout[][] {
  const groups = new Map<string, Rollout[]>();
  for (const r of rollouts) {
    const key = groupKey(r);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()];
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

function summarise(chunk: number, records: RewardRecord[], resumed: number, cached: number): ChunkResult {
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
    cached,
  };
  for (const r of records) {
    result[r.status]++;
    if (!r.judge.cached) {
      result.inputTokens += r.judge.inputTokens;
      result.outputTokens += r.judge.outputTokens;
    }
    const reason = r.judge.failure?.reason;
    if (reason) result.failures[reason] = (result.failures[reason] ?? 0) + 1;
  }
  return result;
}
