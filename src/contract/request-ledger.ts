import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { RolloutSchema, storedRollout, type Rollout } from '../config/rollout';
import { describeZodIssues } from '../config/validation-error';
import { createFilesExclusive, eachAtMost, writeFilesAtomic } from '../io/atomic-batch';
import { writeFileAtomic } from '../io/atomic-write';
import { readTextIfExists } from '../io/read-if-exists';
import { MAX_LINE_BYTES } from '../io/read-lines';
import { canonicalJson } from '../util/canonical-json';
import type { RunLayout } from './run-layout';
import { briefReward, type BriefReward, type RewardRecord } from './reward-record';
import { readRewardsFile } from './rewards-file';
import { idInRun, MAX_REQUEST_ROLLOUTS, type SampleRefusal, type TrainerRequest } from './trainer-requests';

/**
 * The run folder's record of every request key it accepted: one small file per key, created
 * exclusively (`wx`), so two executions, two attempts of an activity or two services can never
 * both claim a key. Each record holds the key, the hash of the request's content, the samples it
 * refused, and the step its rollouts went into once the run placed them. The request's valid
 * rollouts are staged beside it, under the ids they have in the run's step files.
 */
export interface LedgerRecord {
  key: string;
  hash: string;
  pinned: boolean;
  /** Valid rollouts staged for judging. */
  count: number;
  refused: SampleRefusal[];
  /** Set once the run placed the request in a step. */
  step?: number;
}

/** sha256 of a request's rollouts as canonical JSON: what "the same content" means for a key. */
export function contentHash(rollouts: readonly unknown[]): string {
  return createHash('sha256').update(canonicalJson(rollouts)).digest('hex');
}

/** A short file-name-safe id for a request key. */
export function keyIdOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** Why the worker would not score this sample, or undefined if it would. */
export function sampleRefusal(sample: unknown): string | undefined {
  if (isEdgeRefusal(sample)) return sample.refused;
  const parsed = RolloutSchema.safeParse(sample);
  if (!parsed.success) return `not a rollout: ${describeZodIssues(parsed.error).join('; ')}`;
  const bytes = Buffer.byteLength(JSON.stringify(storedRollout(parsed.data)));
  if (bytes > MAX_LINE_BYTES) return `too long: ${bytes} bytes as a JSONL line, over the worker's limit of ${MAX_LINE_BYTES}`;
  return undefined;
}

/** What the service sends in place of a sample it refused at the edge (the hash covers the original). */
export interface EdgeRefusal {
  refused: string;
}

function isEdgeRefusal(sample: unknown): sample is EdgeRefusal {
  return typeof sample === 'object' && sample !== null && Object.keys(sample).length === 1 && typeof (sample as EdgeRefusal).refused === 'string';
}

/** The samples as the service sends them to the run: each one the worker would refuse replaced by its reason. */
export function refuseAtEdge(rollouts: readonly unknown[]): unknown[] {
  return rollouts.map((r) => {
    const why = sampleRefusal(r);
    return why === undefined ? r : ({ refused: why } satisfies EdgeRefusal);
  });
}

export type Admission =
  | { key: string; keyId: string; outcome: 'new'; count: number; refused: SampleRefusal[] }
  | { key: string; keyId: string; outcome: 'known'; count: number; refused: SampleRefusal[]; step?: number; rewards?: BriefReward[]; file?: string }
  | { key: string; keyId: string; outcome: 'conflict'; message: string }
  /** Only for a lookup: the ledger has no record of the key. */
  | { key: string; keyId: string; outcome: 'unknown' };

/** One request for `admitAll`: `rollouts` are its samples (inline, or read from its path by the caller). */
export interface ToAdmit {
  request: TrainerRequest;
  rollouts: unknown[];
  /** Only look the key up (a request pinned to a step the run has passed): never record it. */
  lookupOnly?: boolean;
}

/**
 * Records requests in the ledger, or finds them there, all at once (the disk's fsyncs overlap;
 * each folder is fsynced once). Idempotent: an attempt that crashed after creating a record finds
 * it with the same hash and carries on. The caller sends each key once per call.
 */
export async function admitAll(layout: RunLayout, items: readonly ToAdmit[]): Promise<Admission[]> {
  // Retries after a restart come in batches of one step's requests: its rewards file is read once.
  const rewardsFiles = new Map<string, Promise<RewardRecord[] | undefined>>();
  const rewardsOf = (file: string) => rewardsFiles.get(file) ?? rewardsFiles.set(file, readRewardsFile(file)).get(file)!;
  const found = await eachAtMost(items, ({ request }) => readRecord(layout, keyIdOf(request.key)));
  const fresh: { i: number; keyId: string; record: LedgerRecord; valid: Rollout[] }[] = [];
  const admissions = await eachAtMost(items, async ({ request, rollouts, lookupOnly }, i): Promise<Admission | undefined> => {
    const keyId = keyIdOf(request.key);
    const record = found[i];
    if (record) return known(layout, keyId, record, request.hash, rewardsOf);
    if (lookupOnly) return { key: request.key, keyId, outcome: 'unknown' };
    const { valid, refused } = split(request, keyId, rollouts);
    fresh.push({ i, keyId, valid, record: { key: request.key, hash: request.hash, pinned: request.step !== undefined, count: valid.length, refused } });
    return undefined;
  });
  // The rollouts first: a record found always has its rollouts beside it.
  await writeFilesAtomic(fresh.map((f) => ({ path: layout.requestRollouts(f.keyId), data: f.valid.map((r) => JSON.stringify(r) + '\n').join('') })));
  const created = await createFilesExclusive(fresh.map((f) => ({ path: layout.requestRecord(f.keyId), data: JSON.stringify(f.record) })));
  await eachAtMost(fresh, async (f, j) => {
    const { key } = f.record;
    if (created[j]) {
      admissions[f.i] = { key, keyId: f.keyId, outcome: 'new', count: f.record.count, refused: f.record.refused };
      return;
    }
    // Another attempt recorded it between our look and our write.
    const other = await readRecord(layout, f.keyId);
    if (!other) throw new Error(`request ${f.keyId}: its record exists and cannot be read in ${layout.requestsDir}`);
    admissions[f.i] = await known(layout, f.keyId, other, f.record.hash, rewardsOf);
  });
  return admissions as Admission[];
}

/** The request's samples the worker can score (under their ids in the run) and the ones it refuses. */
function split(request: TrainerRequest, keyId: string, rollouts: unknown[]): { valid: Rollout[]; refused: SampleRefusal[] } {
  const pinned = request.step !== undefined;
  const refused: SampleRefusal[] = [];
  const valid: Rollout[] = [];
  const seen = new Set<string>();
  rollouts.forEach((sample, index) => {
    const why = sampleRefusal(sample);
    if (why) return refused.push({ index, reason: why });
    const rollout = sample as Rollout;
    if (pinned && seen.has(rollout.id)) return refused.push({ index, reason: `duplicate id ${JSON.stringify(rollout.id)}` });
    seen.add(rollout.id);
    valid.push({ ...rollout, id: idInRun(keyId, pinned, rollout.id, index) });
  });
  return { valid, refused };
}

async function known(
  layout: RunLayout,
  keyId: string,
  record: LedgerRecord,
  hash: string,
  rewardsOf: (file: string) => Promise<RewardRecord[] | undefined>,
): Promise<Admission> {
  const { key } = record;
  if (record.hash !== hash) {
    return { key, keyId, outcome: 'conflict', message: `request key ${JSON.stringify(key)} was used before for other content: send new content under a new key` };
  }
  const base = { key, keyId, outcome: 'known' as const, count: record.count, refused: record.refused };
  if (record.step === undefined) return base;
  const file = layout.rewards(record.step);
  // Too many to travel in history: the caller reads the step's rewards file.
  if (record.count > MAX_REQUEST_ROLLOUTS) return { ...base, step: record.step, ...(await exists(file) ? { file } : {}) };
  const records = await rewardsOf(file);
  if (!records) return { ...base, step: record.step };
  const ids = new Set((await readFile(layout.requestRollouts(keyId), 'utf8')).split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Rollout).id));
  return { ...base, step: record.step, rewards: records.filter((r) => ids.has(r.id)).map(briefReward) };
}

/** Marks the requests as placed in `step` (idempotent). */
export async function recordPlacement(layout: RunLayout, keyIds: readonly string[], step: number): Promise<void> {
  const records = await eachAtMost(keyIds, async (keyId) => {
    const record = await readRecord(layout, keyId);
    if (!record) throw new Error(`request ${keyId} has no ledger record in ${layout.requestsDir}`);
    return { keyId, record };
  });
  const moved = records.filter(({ record }) => record.step !== step);
  await writeFilesAtomic(moved.map(({ keyId, record }) => ({ path: layout.requestRecord(keyId), data: JSON.stringify({ ...record, step }) })));
}

/** Writes the step's rollout file from the requests the run placed in it, and records where each went; returns the file. Idempotent. */
export async function assembleStepFile(layout: RunLayout, keyIds: readonly string[], step: number): Promise<string> {
  const file = await writeStepInbox(layout, keyIds, step);
  await recordPlacement(layout, keyIds, step);
  return file;
}

/** The step's rollouts: the staged rollouts of its requests, one after the other, in one file. */
export async function writeStepInbox(layout: RunLayout, keyIds: readonly string[], step: number): Promise<string> {
  const parts = await Promise.all(keyIds.map((id) => readFile(layout.requestRollouts(id), 'utf8')));
  const file = layout.requestsInbox(step);
  await writeFileAtomic(file, parts.join(''));
  return file;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function readRecord(layout: RunLayout, keyId: string): Promise<LedgerRecord | undefined> {
  const text = await readTextIfExists(layout.requestRecord(keyId));
  return text === undefined ? undefined : (JSON.parse(text) as LedgerRecord);
}
