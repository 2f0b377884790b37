import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rollout } from '../config/rollout';
import { eachAtMost } from '../io/atomic-batch';
import { writeFileAtomic } from '../io/atomic-write';
import { fsyncDir } from '../io/durable';
import { readTextIfExists } from '../io/read-if-exists';
import type { RunLayout } from './run-layout';

/**
 * How the request ledger sits on disk. Requests admitted together share one batch file (their
 * records and staged rollouts, one line each, written and fsynced once); each key is claimed by a
 * symlink created exclusively (`symlink` fails if the name exists, so two executions, two
 * attempts or two services can never both claim a key), whose target names the content's hash and
 * the batch. A key's step is another symlink. A symlink's target lives in its inode: creating one
 * is one metadata operation, made durable for a whole batch by one fsync of the folder, where a
 * file per key cost a write, an fsync and a rename each (the service's throughput, issue 19).
 *
 * Ledgers written before batches (a `<keyId>.json` record and `<keyId>.rollouts.jsonl` per key)
 * are still read, so a run that began then keeps its answers.
 */
export interface LedgerRecord {
  key: string;
  hash: string;
  pinned: boolean;
  count: number;
  refused: { index: number; reason: string }[];
  step?: number;
}

interface BatchLine {
  keyId: string;
  record: Omit<LedgerRecord, 'step'>;
  rollouts: Rollout[];
}

export interface NewEntry {
  keyId: string;
  record: Omit<LedgerRecord, 'step'>;
  rollouts: Rollout[];
}

/** Batch files read during one call: a batch holds many keys, read it once. */
export type BatchCache = Map<string, Promise<Map<string, BatchLine>>>;

/** Hash prefix and batch name in a claim's target: short enough for the inode (under 60 bytes). */
const CLAIM_HASH_CHARS = 32;

/**
 * Writes the entries' batch file (durable before any claim names it), then claims each key.
 * Returns, per entry, whether this call claimed it (false: the key was claimed already; the
 * batch then holds a line no claim names, which nothing reads).
 */
export async function claimAll(layout: RunLayout, entries: readonly NewEntry[]): Promise<boolean[]> {
  if (entries.length === 0) return [];
  const name = createHash('sha256')
    .update(entries.map((e) => `${e.keyId}\0${e.record.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 24);
  await writeFileAtomic(layout.requestBatch(name), entries.map((e) => JSON.stringify({ keyId: e.keyId, record: e.record, rollouts: e.rollouts } satisfies BatchLine) + '\n').join(''));
  const claimed = await eachAtMost(entries, async (e) => {
    try {
      await symlink(`${e.record.hash.slice(0, CLAIM_HASH_CHARS)}.${name}`, layout.requestClaim(e.keyId));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  });
  await fsyncDir(layout.requestsDir);
  return claimed;
}

const MARKER = 'ledger-batches';
const formats = new Map<string, Promise<boolean>>();

/**
 * Whether the run's ledger may hold keys written before batches (one file per key): then a key
 * without a claim is looked up there too. A ledger this code created says so with a marker; a
 * folder without it is read both ways (always safe, only slower).
 */
export function mayHoldFormerKeys(layout: RunLayout): Promise<boolean> {
  let known = formats.get(layout.requestsDir);
  if (!known) {
    known = (async () => {
      const marker = join(layout.requestsDir, MARKER);
      if ((await readTextIfExists(marker)) !== undefined) return false;
      const fresh = (await mkdir(layout.requestsDir, { recursive: true }).catch(() => undefined)) !== undefined;
      if (!fresh) return true;
      await writeFileAtomic(marker, 'requests are kept in batches/ and claimed by symlinks (src/contract/ledger-store.ts)\n');
      return false;
    })();
    formats.set(layout.requestsDir, known);
    known.catch(() => formats.delete(layout.requestsDir));
  }
  return known;
}

/** A key's entry: its record, its staged rollouts, and whether it was written before batches. */
export interface LedgerEntry {
  record: LedgerRecord;
  rollouts: () => Promise<Rollout[]>;
  former: boolean;
}

/**
 * The key's record and its staged rollouts, or undefined if the ledger has no claim on it.
 * `withStep: false` skips reading where it was placed (the record then has no step);
 * `former: false` (the ledger holds only batches, see mayHoldFormerKeys) skips looking for a
 * record from before batches when the key has no claim.
 */
export async function readEntry(layout: RunLayout, keyId: string, cache: BatchCache = new Map(), options: { withStep?: boolean; former?: boolean } = {}): Promise<LedgerEntry | undefined> {
  const target = await readLinkIfExists(layout.requestClaim(keyId));
  if (target === undefined) return options.former === false ? undefined : readFormerEntry(layout, keyId);
  const batch = target.slice(CLAIM_HASH_CHARS + 1);
  const line = (await batchOf(layout, batch, cache)).get(keyId);
  if (!line) throw new Error(`request ${keyId}: its claim names batch ${batch}, which does not hold it (${layout.requestsDir})`);
  const step = options.withStep === false ? undefined : await readLinkIfExists(layout.requestPlacement(keyId));
  return { record: { ...line.record, ...(step !== undefined ? { step: Number(step) } : {}) }, rollouts: async () => line.rollouts, former: false };
}

/** Records that each key's rollouts went into `step` (idempotent; a request placed again moves). */
export async function placeAll(layout: RunLayout, entries: readonly { keyId: string; former: boolean }[], step: number): Promise<void> {
  const target = String(step);
  await eachAtMost(entries, async ({ keyId, former }) => {
    if (former) return placeFormer(layout, keyId, step);
    const path = layout.requestPlacement(keyId);
    try {
      await symlink(target, path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if ((await readLinkIfExists(path)) === target) return;
    // Placed before in another step: replaced whole, never missing in between.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await symlink(target, tmp);
    await rename(tmp, path).catch(async (err) => {
      await unlink(tmp).catch(() => {});
      throw err;
    });
  });
  await fsyncDir(layout.requestsDir);
}

function batchOf(layout: RunLayout, name: string, cache: BatchCache): Promise<Map<string, BatchLine>> {
  let lines = cache.get(name);
  if (!lines) {
    lines = readTextIfExists(layout.requestBatch(name)).then((text) => {
      if (text === undefined) throw new Error(`request batch ${name} is missing from ${layout.requestsDir}`);
      const byKey = new Map<string, BatchLine>();
      for (const l of text.split('\n')) {
        if (l === '') continue;
        const line = JSON.parse(l) as BatchLine;
        byKey.set(line.keyId, line);
      }
      return byKey;
    });
    cache.set(name, lines);
  }
  return lines;
}

async function readLinkIfExists(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// ---- ledgers written before batches ----

async function readFormerEntry(layout: RunLayout, keyId: string): Promise<LedgerEntry | undefined> {
  const text = await readTextIfExists(layout.requestRecord(keyId));
  if (text === undefined) return undefined;
  return {
    former: true,
    record: JSON.parse(text) as LedgerRecord,
    rollouts: async () => ((await readTextIfExists(layout.requestRollouts(keyId))) ?? '').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rollout),
  };
}

async function placeFormer(layout: RunLayout, keyId: string, step: number): Promise<void> {
  const text = await readTextIfExists(layout.requestRecord(keyId));
  if (text === undefined) throw new Error(`request ${keyId} has no ledger record in ${layout.requestsDir}`);
  const record = JSON.parse(text) as LedgerRecord;
  if (record.step !== step) await writeFileAtomic(layout.requestRecord(keyId), JSON.stringify({ ...record, step }));
}
