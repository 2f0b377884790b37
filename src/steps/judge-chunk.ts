import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { RolloutSchema, type Rollout } from '../config/rollout';
import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';
import type { RewardRecord } from '../contract/reward-record';
import type { RunConfig } from '../config/run-config';
import type { JudgeHandle } from '../judges/build-judge';
import { JudgeAuthError } from '../judges/judge-auth-error';
import { BatchedAppender } from '../storage/batched-appender';
import { readFinished } from '../storage/read-finished';
import { addUsage, type JudgeCost, type Judgement } from '../judges/judge';
import { planPairs, winRates, type PreferenceOutcome } from '../judges/preference';
import { rewardRecordFor, type JudgeVerdict } from '../rewards/reward-record-for';
import type { RunLayout } from '../contract/run-layout';
import { readBatchKey } from '../contract/batch-key';
import { groupKey } from './group-key';
import { readChunkIndex } from '../contract/chunk-index';
import { ChunkRecordSchema, readCanaryIndex, type ChunkRecord } from './canary-tally';
import { storeFor } from '../storage/stores';

export interface ChunkResult {
  chunk: number;
  count: number;
  scored: number;
  fallback: number;
  excluded: number;
  failures: Partial<Record<JudgeFailureReason, number>>;
  inputTokens: number;
  outputTokens: number;
  /** Prompt-cache input tokens (Bedrock), when the chunk's calls read or wrote any. */
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  /** Rollouts found already judged by an earlier attempt of this activity. */
  resumed: number;
  /** Judgements taken from the cache instead of the model. */
  cached: number;
}

export interface JudgeChunkArgs {
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
export async function judgeChunk(args: JudgeChunkArgs): Promise<ChunkResult> {
  const { layout, step, chunk } = args;
  const key = await readBatchKey(layout, step, args.batch);
  const ref = (await readChunkIndex(layout, step))[chunk];
  if (!ref) throw new Error(`step ${step} has no chunk ${chunk}`);
  const [start, end, count] = ref;

  const store = storeFor(layout.runDir);
  const partialPath = layout.chunkRewards(step, chunk, key);
  const finished = await readFinished(partialPath, (value) => ChunkRecordSchema.parse(value));
  // Rewrite what survived, dropping a line torn by a crash, before appending to it.
  await store.write(partialPath, [...finished.values()].map((r) => JSON.stringify(r) + '\n').join(''));

  // Gold items mixed into the batch: judged like the rest, but fresh, and their verdicts kept.
  const canaries = await readCanaryIndex(layout, step);
  const todo: Rollout[] = [];
  for await (const line of store.readLines(layout.batch(step), { start, end })) {
    if ('error' in line) throw new Error(`batch file of step ${step} is corrupt at chunk ${chunk}`);
    const rollout = RolloutSchema.parse(JSON.parse(line.text));
    if (!finished.has(rollout.id)) todo.push(rollout);
  }

  const resumed = finished.size;
  let done = resumed;
  let cached = 0;
  args.onProgress?.(done, count);
  const appender = new BatchedAppender(partialPath);
  const write = (records: ChunkRecord[]) => {
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
  const recovery = args.judge.recovery ?? { coolDownMs: 0, passes: 0 };
  try {
    // A sample that failed on something passing is held back, not written, until the last pass:
    // a storm of a few seconds must not become fallbacks that no Temporal retry judges again.
    const rubricMode = args.judge.mode === 'rubric';
    let rubricTodo: Held<Judgement>[] = rubricMode ? todo.map((rollout) => ({ item: rollout })) : [];
    let groupTodo: Held<Map<string, Outcome>>[] = rubricMode ? [] : groupRollouts(todo).map((group) => ({ item: group }));
    for (let pass = 0; rubricTodo.length + groupTodo.length > 0; pass++) {
      if (pass > 0) await coolDown(recovery.coolDownMs, args.signal);
      const final = pass >= recovery.passes;
      const rubricAgain: typeof rubricTodo = [];
      const groupsAgain: typeof groupTodo = [];
      const judgeAlone = (held: Held<Judgement>) =>
        limit(guarded(async () => {
          const outcome = await scoreAlone(args, held, final, canaries.has(held.item.id));
          if ('record' in outcome) write([outcome.record]);
          else rubricAgain.push(outcome.again);
        }));
      await Promise.all([
        ...leadersFirst(rubricTodo, (held) => held.item, args.judge).map(({ leader, followers }) =>
          leader === undefined
            ? Promise.all(followers.map(judgeAlone))
            : judgeAlone(leader).then(() => Promise.all(followers.map(judgeAlone))),
        ),
        ...groupTodo.map(async (held) => {
          const outcome = await scoreGroup(args, held, final, (fn) => limit(guarded(fn)));
          if ('records' in outcome) write(outcome.records);
          else groupsAgain.push(outcome.again);
        }),
      ]);
      rubricTodo = rubricAgain;
      groupTodo = groupsAgain;
    }
  } finally {
    // What finished before a failure is kept for the next attempt.
    await appender.close();
  }
  return summarise(chunk, [...finished.values()], resumed, cached);
}

type Outcome = PreferenceOutcome & { cached?: boolean };

/** Work held back for another pass, with what its earlier passes found and spent. */
interface Held<Earlier, Item = Earlier extends Judgement ? Rollout : Rollout[]> {
  item: Item;
  /** Rubric: the failed judgement. Preference: the group's comparisons so far, by pair. */
  earlier?: Earlier;
}

/**
 * A chunk's rubric work by prompt group, each group's first item apart when the judge caches
 * the group's prefix: judged alone first it writes the cache, and its followers, sent when it
 * returns, read it (sent together, each would write it). Other groups' work fills the quota
 * meanwhile; without group caching every item is a follower and goes at once.
 */
function leadersFirst<T>(work: T[], rolloutOf: (t: T) => Rollout, judge: JudgeHandle): { leader?: T; followers: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const t of work) {
    const key = groupKey(rolloutOf(t));
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()].map((members) => {
    const [leader, ...followers] = members;
    return members.length > 1 && judge.groupCached?.(rolloutOf(leader!)) ? { leader, followers } : { followers: members };
  });
}

/** A failure that a later try can get past: the service was busy, slow or briefly broken. */
function transient(outcome: { ok: boolean; reason?: JudgeFailureReason; retryable?: boolean }): boolean {
  return !outcome.ok && (outcome.reason === 'throttled' || outcome.reason === 'timeout' || outcome.reason === 'server') && outcome.retryable !== false;
}

async function coolDown(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Calls, tokens and time of earlier passes stay on the record: they were spent. */
function withEarlierCost<T extends JudgeCost>(
  now: T,
  earlier: JudgeCost | undefined,
): T {
  if (!earlier) return now;
  return {
    ...now,
    usage: addUsage(now.usage, earlier.usage),
    latencyMs: now.latencyMs + earlier.latencyMs,
    attempts: now.attempts + earlier.attempts,
  };
}

async function scoreAlone(
  args: JudgeChunkArgs,
  held: Held<Judgement>,
  final: boolean,
  canary: boolean,
): Promise<{ record: ChunkRecord } | { again: Held<Judgement> }> {
  args.signal?.throwIfAborted();
  const rollout = held.item;
  const judgement = withEarlierCost(await args.judge.rubric(rollout, args.signal, { fresh: canary }), held.earlier);
  failFastOnAuth(judgement);
  if (!final && transient(judgement)) return { again: { item: rollout, earlier: judgement } };
  const verdict: JudgeVerdict = judgement.ok
    ? { ...judgement, score: judgement.score, rationale: judgement.rationale }
    : { ...judgement, reason: judgement.reason };
  const record: ChunkRecord = recordFor(args, rollout, verdict);
  if (canary && judgement.ok) {
    record.canary = { score: judgement.score, criteria: Object.fromEntries(judgement.criteria.map((c) => [c.id, c.pass])) };
  }
  return { record };
}

/**
 * Preference mode: every planned pair of the group is compared (both orders, inside the
 * judge), and each response's reward is its win rate in the group.
 */
async function scoreGroup(
  args: JudgeChunkArgs,
  held: Held<Map<string, Outcome>>,
  final: boolean,
  limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<{ records: RewardRecord[] } | { again: Held<Map<string, Outcome>> }> {
  const group = held.item;
  const byId = new Map(group.map((r) => [r.id, r]));
  const ids = group.map((r) => r.id);
  const pairs = planPairs(ids, { maxPairsPerGroup: args.judge.maxPairsPerGroup, seed: `${args.runId}:${args.step}:${groupKey(group[0]!)}` });
  const comparePair = ([a, b]: [string, string]): Promise<Outcome> => {
    const before = held.earlier?.get(`${a}|${b}`);
    // Only what failed is asked again; a comparison that worked stands.
    if (before?.ok) return Promise.resolve(before);
    return limit(async () => {
      args.signal?.throwIfAborted();
      const outcome = withEarlierCost(await args.judge.compare(byId.get(a)!, byId.get(b)!, args.signal), before);
      failFastOnAuth(outcome);
      return outcome;
    });
  };
  // With group prompt caching the first comparison writes the group's prefix, the rest read it.
  const [first, ...rest] = pairs;
  const outcomes: Outcome[] =
    first !== undefined && pairs.length > 1 && args.judge.groupCached?.(group[0]!)
      ? await comparePair(first).then(async (o) => [o, ...(await Promise.all(rest.map(comparePair)))])
      : await Promise.all(pairs.map(comparePair));
  if (!final && outcomes.some(transient)) {
    return { again: { item: group, earlier: new Map(outcomes.map((o) => [`${o.a}|${o.b}`, o])) } };
  }
  const report = winRates(ids, outcomes);
  const share = (n: number) => n / Math.max(1, group.length);
  return { records: report.rates.map((rate) => {
    const rollout = byId.get(rate.id)!;
    const mine = outcomes.filter((o) => o.a === rate.id || o.b === rate.id);
    // A pair's calls and tokens are booked to its first response, so step totals count each once.
    const booked = outcomes.filter((o) => o.a === rate.id);
    const cost = {
      usage: booked.reduce((sum, o) => addUsage(sum, o.usage), { inputTokens: 0, outputTokens: 0 }),
      latencyMs: share(report.latencyMs),
      attempts: booked.reduce((n, o) => n + o.attempts, 0),
      cached: mine.length > 0 && mine.every((o) => o.cached),
    };
    const flags = rate.inconsistent > 0 ? ['inconsistent'] : [];
    const planned = rate.comparisons + rate.failed;
    // A win rate from the one comparison that worked out of many is not a judgement of the group.
    if (planned > 0 && rate.comparisons < planned * (args.judge.minComparisonShare ?? 0.5)) {
      const failed = report.failures.filter((f) => f.a === rate.id || f.b === rate.id);
      const reason = majorityReason(failed.map((f) => f.reason));
      return recordFor(args, rollout, {
        ok: false,
        ...cost,
        reason,
        message: `only ${rate.comparisons} of ${planned} planned comparisons succeeded; ${failed[0]?.message ?? ''}`,
        flags,
      });
    }
    if (rate.failed > 0) flags.push('partial-comparisons');
    if (rate.noComparisons) {
      const failure = report.failures.find((f) => f.a === rate.id || f.b === rate.id);
      return recordFor(args, rollout, {
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
    return recordFor(args, rollout, { ok: true, ...cost, score: rate.reward, rationale, flags });
  }) };
}

function majorityReason(reasons: JudgeFailureReason[]): JudgeFailureReason | undefined {
  const counts = new Map<JudgeFailureReason, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  let best: JudgeFailureReason | undefined;
  for (const [reason, n] of counts) if (best === undefined || n > counts.get(best)!) best = reason;
  return best;
}

function recordFor(args: JudgeChunkArgs, rollout: Rollout, verdict: JudgeVerdict): RewardRecord {
  const record = rewardRecordFor({ step: args.step, rollout, judge: args.judge.identity, verdict, rewards: args.rewards, fallback: args.fallback });
  // The response itself stays out of the rewards file; its length is what a length-hacking check needs.
  return { ...record, responseChars: rollout.response.length };
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
      if (r.judge.cacheReadInputTokens) result.cacheReadInputTokens = (result.cacheReadInputTokens ?? 0) + r.judge.cacheReadInputTokens;
      if (r.judge.cacheWriteInputTokens) result.cacheWriteInputTokens = (result.cacheWriteInputTokens ?? 0) + r.judge.cacheWriteInputTokens;
    }
    const reason = r.judge.failure?.reason;
    if (reason) result.failures[reason] = (result.failures[reason] ?? 0) + 1;
  }
  return result;
}
