import { createHash } from 'node:crypto';
import { RolloutSchema, storedRollout, type Rollout } from '../config/rollout';
import { describeZodIssues } from '../config/validation-error';
import { eachAtMost } from '../io/atomic-batch';
import { MAX_LINE_BYTES } from '../io/read-lines';
import { storeFor } from '../storage/stores';
import { canonicalJson } from '../util/canonical-json';
import { claimAll, mayHoldFormerKeys, placeAll, readEntry, ledgerReads, type LedgerEntry, type LedgerRecord, type NewEntry } from './ledger-store';
import type { RunLayout } from './run-layout';
import { briefReward, type BriefReward, type RewardRecord } from './reward-record';
import { readRewardsFile } from './rewards-file';
import { idInRun, MAX_REQUEST_ROLLOUTS, type SampleRefusal, type TrainerRequest } from './trainer-requests';

/**
 * The run folder's record of every request key it accepted (how it sits on disk: ledger-store.ts):
 * the key, the hash of the request's content, the samples it refused, and the step its rollouts
 * went into once the run placed them. The request's valid rollouts are staged beside it, under
 * the ids they have in the run's step files. A key is claimed exclusively, so two executions, two
 * attempts of an activity or two services can never both claim it.
 */
export type { LedgerRecord };

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
 * Records requests in the ledger, or finds them there, all at once (the writes overlap; on a
 * filesystem each folder is fsynced once). Idempotent: an attempt that crashed after creating a
 * record finds it with the same hash and carries on. The caller sends each key once per call.
 */
export async function admitAll(layout: RunLayout, items: readonly ToAdmit[]): Promise<Admission[]> {
  // Retries after a restart come in batches of one step's requests: its rewards file is read once.
  const rewardsFiles = new Map<string, Promise<RewardRecord[] | undefined>>();
  const rewardsOf = (file: string) => rewardsFiles.get(file) ?? rewardsFiles.set(file, readRewardsFile(file)).get(file)!;
  const reads = ledgerReads();
  // A key is claimed by creating its claim: only lookups, and keys a ledger from before batches
  // may hold, are looked up first (a claim that exists is found when creating it fails).
  const former = await mayHoldFormerKeys(layout);
  const found = await eachAtMost(items, ({ request, lookupOnly }) => (lookupOnly || former ? readEntry(layout, keyIdOf(request.key), reads, { former }) : Promise.resolve(undefined)));
  const fresh: { i: number; entry: NewEntry }[] = [];
  const admissions = await eachAtMost(items, async ({ request, rollouts, lookupOnly }, i): Promise<Admission | undefined> => {
    const keyId = keyIdOf(request.key);
    const entry = found[i];
    if (entry) return known(layout, keyId, entry, request.hash, rewardsOf);
    if (lookupOnly) return { key: request.key, keyId, outcome: 'unknown' };
    const { valid, refused } = split(request, keyId, rollouts);
    fresh.push({ i, entry: { keyId, rollouts: valid, record: { key: request.key, hash: request.hash, pinned: request.step !== undefined, count: valid.length, refused } } });
    return undefined;
  });
  const claimed = await claimAll(layout, fresh.map((f) => f.entry), reads);
  await eachAtMost(fresh, async ({ i, entry }, j) => {
    const { keyId, record } = entry;
    if (claimed[j]) {
      admissions[i] = { key: record.key, keyId, outcome: 'new', count: record.count, refused: record.refused };
      return;
    }
    // Another attempt claimed it between our look and our claim.
    const other = await readEntry(layout, keyId, reads);
    if (!other) throw new Error(`request ${keyId}: its claim exists and cannot be read in ${layout.requestsDir}`);
    admissions[i] = await known(layout, keyId, other, record.hash, rewardsOf);
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
  entry: LedgerEntry,
  hash: string,
  rewardsOf: (file: string) => Promise<RewardRecord[] | undefined>,
): Promise<Admission> {
  const { record } = entry;
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
  const ids = new Set((await entry.rollouts()).map((r) => r.id));
  return { ...base, step: record.step, rewards: records.filter((r) => ids.has(r.id)).map(briefReward) };
}

/** Writes the step's rollout file from the requests the run placed in it, and records where each went; returns the file. Idempotent. */
export async function assembleStepFile(layout: RunLayout, keyIds: readonly string[], step: number): Promise<string> {
  const reads = ledgerReads();
  const entries = await eachAtMost(keyIds, async (keyId) => {
    const entry = await readEntry(layout, keyId, reads, { withStep: false });
    if (!entry) throw new Error(`request ${keyId} has no ledger record in ${layout.requestsDir}`);
    return { keyId, former: entry.former, lines: (await entry.rollouts()).map((r) => JSON.stringify(r) + '\n').join('') };
  });
  const file = layout.requestsInbox(step);
  await storeFor(file).write(file, entries.map((e) => e.lines).join(''));
  await placeAll(layout, entries, step);
  return file;
}

async function exists(file: string): Promise<boolean> {
  return storeFor(file).stat(file).then(
    (info) => info !== undefined,
    () => false,
  );
}
