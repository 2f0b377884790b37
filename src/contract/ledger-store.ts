import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readlink, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Rollout } from '../config/rollout';
import { eachAtMost } from '../io/atomic-batch';
import { fsyncDir } from '../io/durable';
import { readTextIfExists } from '../io/read-if-exists';
import { isS3Location, joinLocation } from '../storage/location';
import { claimMemoOf, type ClaimMemo } from './claim-memo';
import { storeFor } from '../storage/stores';
import type { RunLayout } from './run-layout';

/**
 * How the request ledger sits in the run folder. Requests admitted together share one batch file
 * (their records and staged rollouts, one line each, written once); each key is claimed by a name
 * created exclusively (two executions, two attempts or two services can never both claim a key),
 * whose content names the batch. A key's step is another such name. On a filesystem these names
 * are hard links to one small file per batch or step (`link` fails if the name exists): creating
 * one adds a directory entry and no inode, and one fsync of the folder makes a whole batch
 * durable. A file per key cost a write, an fsync and a rename each; a symlink per key (the format
 * before) an inode each, and allocating inodes was most of the worker's CPU at a few hundred
 * requests a second (issue 19, docs/performance.md). In S3 they are small objects (see `claimsFor`).
 *
 * Ledgers written before keep being read: symlink claims and placements (their target is the
 * content), and from before batches a `<keyId>.json` record and `<keyId>.rollouts.jsonl` per key.
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

/** What one call reads of a ledger: each batch file once (a batch holds many keys), and the claims this process knows. */
export interface LedgerReads {
  batches: Map<string, Promise<Map<string, BatchLine>>>;
  memo?: Promise<ClaimMemo | undefined>;
}

export function ledgerReads(): LedgerReads {
  return { batches: new Map() };
}

function memoOf(layout: RunLayout, reads: LedgerReads): Promise<ClaimMemo | undefined> {
  return (reads.memo ??= claimMemoOf(layout.requestsDir));
}

/** A claim's content is its batch's name; claims written as symlinks named `<hash prefix>.<batch>`. */
function batchNamed(claim: string): string {
  return claim.slice(claim.lastIndexOf('.') + 1);
}

/**
 * Writes the entries' batch file (durable before any claim names it), then claims each key.
 * Returns, per entry, whether this call claimed it (false: the key was claimed already; the
 * batch then holds a line no claim names, which nothing reads).
 */
export async function claimAll(layout: RunLayout, entries: readonly NewEntry[], reads: LedgerReads = ledgerReads()): Promise<boolean[]> {
  if (entries.length === 0) return [];
  const name = createHash('sha256')
    .update(entries.map((e) => `${e.keyId}\0${e.record.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 24);
  const batch = layout.requestBatch(name);
  await storeFor(batch).write(batch, entries.map((e) => JSON.stringify({ keyId: e.keyId, record: e.record, rollouts: e.rollouts } satisfies BatchLine) + '\n').join(''));
  const claimed = await claimsFor(layout.requestsDir).create(
    layout.requestsDir,
    entries.map((e) => ({ path: layout.requestClaim(e.keyId), target: name })),
  );
  const memo = await memoOf(layout, reads);
  entries.forEach((e, i) => claimed[i] && memo?.set(e.keyId, name));
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
      const marker = joinLocation(layout.requestsDir, MARKER);
      const store = storeFor(marker);
      if ((await store.readText(marker)) !== undefined) return false;
      if (!(await claimsFor(layout.requestsDir).begin(layout.requestsDir))) return true;
      await store.write(marker, 'requests are kept in batches/ and claimed by <keyId>.claim (src/contract/ledger-store.ts)\n');
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
export async function readEntry(layout: RunLayout, keyId: string, reads: LedgerReads = ledgerReads(), options: { withStep?: boolean; former?: boolean } = {}): Promise<LedgerEntry | undefined> {
  const claims = claimsFor(layout.requestsDir);
  const memo = await memoOf(layout, reads);
  const target = memo?.get(keyId) ?? (await claims.read(layout.requestClaim(keyId)));
  if (target === undefined) return options.former === false ? undefined : readFormerEntry(layout, keyId);
  memo?.set(keyId, target);
  const batch = batchNamed(target);
  const line = (await batchOf(layout, batch, reads)).get(keyId);
  if (!line) throw new Error(`request ${keyId}: its claim names batch ${batch}, which does not hold it (${layout.requestsDir})`);
  const step = options.withStep === false ? undefined : await claims.read(layout.requestPlacement(keyId));
  return { record: { ...line.record, ...(step !== undefined ? { step: Number(step) } : {}) }, rollouts: async () => line.rollouts, former: false };
}

/** Records that each key's rollouts went into `step` (idempotent; a request placed again moves). */
export async function placeAll(layout: RunLayout, entries: readonly { keyId: string; former: boolean }[], step: number): Promise<void> {
  await eachAtMost(
    entries.filter((e) => e.former),
    ({ keyId }) => placeFormer(layout, keyId, step),
  );
  const placements = entries.filter((e) => !e.former).map(({ keyId }) => ({ path: layout.requestPlacement(keyId), target: String(step) }));
  await claimsFor(layout.requestsDir).set(layout.requestsDir, placements);
}

function batchOf(layout: RunLayout, name: string, reads: LedgerReads): Promise<Map<string, BatchLine>> {
  const cache = reads.batches;
  let lines = cache.get(name);
  if (!lines) {
    const file = layout.requestBatch(name);
    lines = storeFor(file).readText(file).then((text) => {
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

// ---- claims and placements, where the run folder lives ----

/** A name created or set with `target` as its whole content: a key's claim, or its placement. */
interface Claim {
  path: string;
  target: string;
}

interface Claims {
  /** Creates each name unless it exists: true where this call created it (one winner however many race). Durable on return. */
  create(folder: string, claims: readonly Claim[]): Promise<boolean[]>;
  /** The name's target, or undefined when there is no such name. */
  read(path: string): Promise<string | undefined>;
  /** Sets each name to its target, whether it existed or not, never missing in between. Durable on return. */
  set(folder: string, claims: readonly Claim[]): Promise<void>;
  /** Whether the ledger's folder is new: nothing was written into it before (see mayHoldFormerKeys). */
  begin(folder: string): Promise<boolean>;
}

/** Hard links on a filesystem, objects in S3. */
function claimsFor(folder: string): Claims {
  return isS3Location(folder) ? objectClaims : linkClaims;
}

/**
 * On a filesystem a claim or placement is a hard link to `targets/<content>`, a file holding its
 * content, written once per batch or step: the names of a batch share one inode. Claims from
 * before are symlinks whose target is the content: read, and replaced by a link when placed again.
 */
const linkClaims: Claims = {
  async create(folder, claims) {
    const sources = await targetFiles(folder, claims);
    const created = await eachAtMost(claims, async ({ path, target }) => {
      try {
        await linkTo(sources, target, path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
    });
    await fsyncDir(folder);
    return created;
  },
  async read(path) {
    try {
      return await readlink(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      // EINVAL: not a symlink, so a link to its content's file.
      if (code !== 'EINVAL') throw err;
    }
    return readTextIfExists(path);
  },
  async set(folder, claims) {
    const sources = await targetFiles(folder, claims);
    await eachAtMost(claims, async ({ path, target }) => {
      try {
        await linkTo(sources, target, path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if ((await linkClaims.read(path)) === target) return;
      // Placed before in another step: replaced whole, never missing in between.
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await linkTo(sources, target, tmp);
      await rename(tmp, path).catch(async (err) => {
        await unlink(tmp).catch(() => {});
        throw err;
      });
    });
    await fsyncDir(folder);
  },
  async begin(folder) {
    // mkdir -p answers the first folder it made, undefined when the folder was there.
    return (await mkdir(folder, { recursive: true }).catch(() => undefined)) !== undefined;
  },
};

/** Each distinct content's file under `<folder>/targets/`, written (durably, whole) unless it holds that content already. */
async function targetFiles(folder: string, claims: readonly Claim[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const { target } of claims) files.set(target, join(folder, 'targets', target));
  await eachAtMost([...files], async ([target, file]) => {
    if ((await readTextIfExists(file)) !== target) await storeFor(file).write(file, target);
  });
  return files;
}

/**
 * Links `path` to its content's file. A file takes at most 65,000 links on ext4 (EMLINK): past
 * that the content gets a fresh file of its own for the names that follow.
 */
async function linkTo(sources: Map<string, string>, target: string, path: string): Promise<void> {
  try {
    await link(sources.get(target)!, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMLINK') throw err;
    const fresh = join(dirname(sources.get(target)!), `${target}.${randomBytes(6).toString('hex')}`);
    await storeFor(fresh).write(fresh, target);
    sources.set(target, fresh);
    await link(fresh, path);
  }
}

/**
 * In S3 a claim is an object whose body is its content (on a filesystem, its linked file's). What each write
 * relies on:
 *
 * - create: a PUT with `If-None-Match: *` (Store.create), which S3 answers 412 when the key
 *   exists, so of any number of racers on any number of machines one claims a key, as link()
 *   lets one. A claim is never replaced nor deleted, so its content is the winner's for good.
 *   A PUT that landed but whose answer was lost meets its own object on the SDK's retry (412):
 *   the key is then found claimed with this call's content, as an attempt after a crash finds it.
 * - set (a placement): a plain PUT, which replaces the body atomically: a reader sees the earlier
 *   step or the new one, never no placement, as the filesystem's rename over the name promises.
 *   A placement is not a claim: placing again moves it, and the last write is the step.
 * - nothing is deleted: the filesystem's only unlink is of a move's temp link, which S3 has no
 *   need of.
 * - begin: S3 has no folders; a ledger is new when nothing is stored under it. Two racers may both
 *   find it new: both then write the same marker, and neither wrote a key before batches.
 */
const objectClaims: Claims = {
  create: (folder, claims) => storeFor(folder).createMany(claims.map(({ path, target }) => ({ path, data: target }))),
  read: (path) => storeFor(path).readText(path),
  set: (folder, claims) => storeFor(folder).writeMany(claims.map(({ path, target }) => ({ path, data: target }))),
  begin: async (folder) => (await storeFor(folder).list(folder)).length === 0,
};

// ---- ledgers written before batches ----

async function readFormerEntry(layout: RunLayout, keyId: string): Promise<LedgerEntry | undefined> {
  const store = storeFor(layout.requestsDir);
  const text = await store.readText(layout.requestRecord(keyId));
  if (text === undefined) return undefined;
  return {
    former: true,
    record: JSON.parse(text) as LedgerRecord,
    rollouts: async () => ((await store.readText(layout.requestRollouts(keyId))) ?? '').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rollout),
  };
}

async function placeFormer(layout: RunLayout, keyId: string, step: number): Promise<void> {
  const store = storeFor(layout.requestsDir);
  const text = await store.readText(layout.requestRecord(keyId));
  if (text === undefined) throw new Error(`request ${keyId} has no ledger record in ${layout.requestsDir}`);
  const record = JSON.parse(text) as LedgerRecord;
  if (record.step !== step) await store.write(layout.requestRecord(keyId), JSON.stringify({ ...record, step }));
}
