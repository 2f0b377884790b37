import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Rollout } from '../config/rollout';
import type { JudgeHandle } from '../judges/build-judge';
import { BatchedAppender } from '../storage/batched-appender';
import { readFinished } from '../storage/read-finished';
import { JudgeAuthError } from '../judges/judge-auth-error';
import { readStoredText } from '../storage/read-text';
import { storeFor } from '../storage/stores';
import type { AttackItem } from './attacks';
import type { ValidationItem } from './dataset';
import type { JudgedRecord, PreferenceRecord, RubricRecord } from './judged-record';
import type { ValidationLayout } from './layout';
import type { WorkUnit } from './work-plan';

export interface UnitResult {
  judged: number;
  failed: number;
  /** Found already judged by an earlier attempt of this activity. */
  resumed: number;
  inputTokens: number;
  outputTokens: number;
  attempts: number;
}

export interface JudgeUnitArgs {
  layout: ValidationLayout;
  unit: WorkUnit;
  judge: JudgeHandle;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Judges one slice of items for one judge. Each judgement is appended to the unit's file as it
 * finishes, so a retried attempt judges only what is missing. No cache: a repeat must reach the
 * model, or self-consistency would measure the cache.
 */
export async function judgeUnit(args: JudgeUnitArgs): Promise<UnitResult> {
  const { unit, layout } = args;
  const path = layout.unit(unit);
  const finished = await readJudged(path);
  await storeFor(path).write(path, [...finished.values()].map((r) => JSON.stringify(r) + '\n').join(''));
  const todo = (await unitRollouts(layout, unit)).filter((t) => !finished.has(t.id));
  const total = finished.size + todo.length;
  const resumed = finished.size;
  let done = resumed;
  args.onProgress?.(done, total);

  // Every call in flight listens on the activity's cancellation signal: that many is expected.
  if (args.signal) setMaxListeners(args.judge.concurrency * 2 + 10, args.signal);
  const appender = new BatchedAppender(path);
  const limit = pLimit(args.judge.concurrency);
  const refused = new AbortController();
  try {
    await Promise.all(
      todo.map((task) =>
        limit(async () => {
          refused.signal.throwIfAborted();
          args.signal?.throwIfAborted();
          const record = task.kind === 'pair' ? await compare(args, task.id, task.a, task.b) : await rubric(args, task.id, task.rollout);
          if (!record.ok && record.reason === 'auth') {
            const err = new JudgeAuthError(`the judge refused our credentials: ${record.message}`);
            refused.abort(err);
            throw err;
          }
          appender.add([JSON.stringify(record) + '\n']);
          finished.set(record.id, record);
          args.onProgress?.(++done, total);
        }),
      ),
    );
  } finally {
    await appender.close();
  }
  const records = [...finished.values()];
  return {
    judged: records.filter((r) => r.ok).length,
    failed: records.filter((r) => !r.ok).length,
    resumed,
    inputTokens: records.reduce((n, r) => n + r.inputTokens, 0),
    outputTokens: records.reduce((n, r) => n + r.outputTokens, 0),
    attempts: records.reduce((n, r) => n + r.attempts, 0),
  };
}

type Task = { kind: 'one'; id: string; rollout: Rollout } | { kind: 'pair'; id: string; a: Rollout; b: Rollout };

async function unitRollouts(layout: ValidationLayout, unit: WorkUnit): Promise<Task[]> {
  if (unit.kind === 'attack') {
    const attacks = (await readJsonl<AttackItem>(layout.attacks)).slice(unit.start, unit.end);
    return attacks.map((a) => ({
      kind: 'one',
      id: a.id,
      rollout: { id: a.id, prompt: a.prompt, response: a.response, reference: a.reference, ...(a.messages && { messages: a.messages }) },
    }));
  }
  const items = await readJsonl<ValidationItem>(layout.items);
  if (unit.kind === 'rubric') {
    return items.slice(unit.start, unit.end).map((i) => ({ kind: 'one', id: i.id, rollout: { id: i.id, prompt: i.prompt, response: i.response, reference: i.reference } }));
  }
  return items
    .filter((i) => i.pair !== undefined)
    .slice(unit.start, unit.end)
    .map((i) => ({
      kind: 'pair',
      id: i.id,
      a: { id: `${i.id}#first`, prompt: i.prompt, response: i.response, reference: i.reference },
      b: { id: `${i.id}#second`, prompt: i.prompt, response: i.pair!.response, reference: i.reference },
    }));
}

async function rubric(args: JudgeUnitArgs, id: string, rollout: Rollout): Promise<RubricRecord> {
  const base = { id, repeat: args.unit.repeat };
  try {
    const j = await args.judge.rubric(rollout, args.signal);
    const cost = { inputTokens: j.usage.inputTokens, outputTokens: j.usage.outputTokens, attempts: j.attempts };
    if (!j.ok) return { ...base, ...cost, ok: false, reason: j.reason, message: j.message };
    return { ...base, ...cost, ok: true, score: j.score, criteria: Object.fromEntries(j.criteria.map((c) => [c.id, c.pass])) };
  } catch (err) {
    if (args.signal?.aborted) throw err;
    return { ...base, inputTokens: 0, outputTokens: 0, attempts: 0, ok: false, reason: 'error', message: (err as Error).message };
  }
}

async function compare(args: JudgeUnitArgs, id: string, a: Rollout, b: Rollout): Promise<PreferenceRecord> {
  try {
    const o = await args.judge.compare(a, b, args.signal);
    const cost = { inputTokens: o.usage.inputTokens, outputTokens: o.usage.outputTokens, attempts: o.attempts };
    if (!o.ok) return { id, ...cost, ok: false, reason: o.reason, message: o.message };
    return { id, ...cost, ok: true, votes: o.votes, winner: o.winner, inconsistent: o.inconsistent };
  } catch (err) {
    if (args.signal?.aborted) throw err;
    return { id, inputTokens: 0, outputTokens: 0, attempts: 0, ok: false, reason: 'error', message: (err as Error).message };
  }
}

export async function readJsonl<T>(path: string): Promise<T[]> {
  const text = await readStoredText(path);
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

/** What an earlier attempt wrote; a line torn by a crash is dropped and judged again. */
function readJudged(path: string): Promise<Map<string, JudgedRecord>> {
  return readFinished(path, (value) => {
    const record = value as JudgedRecord;
    if (typeof record?.id !== 'string') throw new Error('no id');
    return record;
  });
}

/** All records of the units given, by unit. */
export async function readUnitRecords<T extends JudgedRecord>(layout: ValidationLayout, units: readonly WorkUnit[]): Promise<T[]> {
  const all: T[] = [];
  for (const unit of units) all.push(...((await readJudged(layout.unit(unit))).values() as Iterable<T>));
  return all;
}
