import { mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readEntry } from '../../src/contract/ledger-store';
import { admitAll, assembleStepFile, contentHash, keyIdOf, type ToAdmit } from '../../src/contract/request-ledger';
import { RunLayout } from '../../src/contract/run-layout';
import { rollout, tempDir } from '../support/fixtures';

function item(key: string, rollouts: unknown[], extra: Partial<ToAdmit> = {}): ToAdmit {
  return { request: { key, hash: contentHash(rollouts), rollouts }, rollouts, ...extra };
}

describe('request ledger (a batch file per admission, a claim per key, in the run folder)', () => {
  it('records new keys, finds them again with the same content, and refuses other content under a used key', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const a = [rollout('a1'), { id: 'bad' }];
    const b = [rollout('b1'), rollout('b2')];
    const first = await admitAll(layout, [item('key-a', a), item('key-b', b)]);
    expect(first.map((x) => x.outcome)).toEqual(['new', 'new']);
    expect(first[0]).toMatchObject({ count: 1, refused: [{ index: 1 }] });
    expect(first[1]).toMatchObject({ count: 2, refused: [] });

    const again = await admitAll(layout, [item('key-b', b), item('key-a', [rollout('other')]), item('key-c', [], { lookupOnly: true })]);
    expect(again.map((x) => x.outcome)).toEqual(['known', 'conflict', 'unknown']);
    // Nothing was claimed for the lookup, the conflict left the first content's claim, and no temp file is left behind.
    const files = (await readdir(layout.requestsDir)).filter((f) => f !== 'batches' && f !== 'targets' && f !== 'ledger-batches');
    expect(files.sort()).toEqual([`${keyIdOf('key-a')}.claim`, `${keyIdOf('key-b')}.claim`].sort());
    expect((await readEntry(layout, keyIdOf('key-a')))!.record.hash).toBe(contentHash(a));
    const batches = await readdir(`${layout.requestsDir}/batches`);
    expect(batches.every((f) => f.endsWith('.jsonl'))).toBe(true);
  });

  it('two admissions of one key at once: one records it, the other finds it, and the record is whole', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const rollouts = Array.from({ length: 50 }, (_, i) => rollout(`r${i}`));
    for (let round = 0; round < 10; round++) {
      const key = `race-${round}`;
      const [x, y] = await Promise.all([admitAll(layout, [item(key, rollouts)]), admitAll(layout, [item(key, rollouts)])]);
      expect([x[0]!.outcome, y[0]!.outcome].sort()).toEqual(['known', 'new']);
      const entry = await readEntry(layout, keyIdOf(key));
      expect(entry!.record).toMatchObject({ key, count: 50 });
      expect(await entry!.rollouts()).toHaveLength(50);
    }
  });

  it('a step assembled from requests holds their rollouts in order, and each key names the step (placed again: it moves)', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    await admitAll(layout, [item('k1', [rollout('x')]), item('k2', [rollout('y'), rollout('z')])]);
    const keyIds = [keyIdOf('k1'), keyIdOf('k2')];
    const file = await assembleStepFile(layout, keyIds, 7);
    await assembleStepFile(layout, keyIds, 7); // idempotent
    const ids = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
    expect(ids).toEqual([`${keyIds[0]}~0`, `${keyIds[1]}~0`, `${keyIds[1]}~1`]);
    for (const keyId of keyIds) expect(await readFile(layout.requestPlacement(keyId), 'utf8')).toBe('7');
    const known = await admitAll(layout, [item('k2', [rollout('y'), rollout('z')])]);
    // Placed but not yet checkpointed: known with its step, no rewards yet.
    expect(known[0]).toMatchObject({ outcome: 'known', step: 7 });
    expect(known[0]).not.toHaveProperty('rewards');
    await assembleStepFile(layout, [keyIds[0]!], 8);
    expect((await readEntry(layout, keyIds[0]!))!.record.step).toBe(8);
  });

  it('a ledger written before batches (a record and rollouts file per key) keeps its keys: found, placed, never claimed twice', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const old = [rollout('o1')];
    const keyId = keyIdOf('old-key');
    await mkdir(layout.requestsDir, { recursive: true });
    await writeFile(layout.requestRecord(keyId), JSON.stringify({ key: 'old-key', hash: contentHash(old), pinned: false, count: 1, refused: [] }));
    await writeFile(layout.requestRollouts(keyId), JSON.stringify({ ...old[0], id: `${keyId}~0` }) + '\n');
    const [again, fresh] = await admitAll(layout, [item('old-key', old), item('new-key', [rollout('n1')])]);
    expect(again!.outcome).toBe('known');
    expect(fresh!.outcome).toBe('new');
    expect((await admitAll(layout, [item('old-key', [rollout('changed')])]))[0]!.outcome).toBe('conflict');
    const file = await assembleStepFile(layout, [keyId, keyIdOf('new-key')], 3);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(await readFile(layout.requestRecord(keyId), 'utf8')).step).toBe(3);
    expect((await admitAll(layout, [item('old-key', old)]))[0]).toMatchObject({ outcome: 'known', step: 3 });
  });

  it('the claims of one admission share one inode, and so do the placements of one step (hard links: no inode per key)', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await admitAll(layout, keys.map((k) => item(k, [rollout(`r-${k}`)])));
    const keyIds = keys.map(keyIdOf);
    const claims = await Promise.all(keyIds.map((k) => stat(layout.requestClaim(k))));
    expect(new Set(claims.map((c) => c.ino)).size).toBe(1);
    expect(claims[0]!.nlink).toBe(keys.length + 1); // and its file under targets/
    await assembleStepFile(layout, keyIds, 4);
    const placements = await Promise.all(keyIds.map((k) => stat(layout.requestPlacement(k))));
    expect(new Set(placements.map((p) => p.ino)).size).toBe(1);
    // Moved: the key's placement now shares step 5's inode, the others stay with step 4's.
    await assembleStepFile(layout, [keyIds[0]!], 5);
    expect((await stat(layout.requestPlacement(keyIds[0]!))).ino).not.toBe(placements[0]!.ino);
    expect((await readEntry(layout, keyIds[0]!))!.record.step).toBe(5);
    expect((await readEntry(layout, keyIds[1]!))!.record.step).toBe(4);
  });

  it('a ledger whose claims and placements are symlinks (written before hard links) keeps its keys: found, moved, never claimed twice', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const old = [rollout('s1'), rollout('s2')];
    const keyId = keyIdOf('sym-key');
    const hash = contentHash(old);
    const batch = 'a'.repeat(24);
    await mkdir(`${layout.requestsDir}/batches`, { recursive: true });
    const record = { key: 'sym-key', hash, pinned: false, count: 2, refused: [] };
    const staged = old.map((r, i) => ({ ...r, id: `${keyId}~${i}` }));
    await writeFile(layout.requestBatch(batch), JSON.stringify({ keyId, record, rollouts: staged }) + '\n');
    await symlink(`${hash.slice(0, 32)}.${batch}`, layout.requestClaim(keyId));
    await symlink('5', layout.requestPlacement(keyId));
    expect((await admitAll(layout, [item('sym-key', old)]))[0]).toMatchObject({ outcome: 'known', step: 5 });
    expect((await admitAll(layout, [item('sym-key', [rollout('changed')])]))[0]!.outcome).toBe('conflict');
    const file = await assembleStepFile(layout, [keyId], 6);
    expect((await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([`${keyId}~0`, `${keyId}~1`]);
    expect((await readEntry(layout, keyId))!.record.step).toBe(6);
    expect(await readlink(layout.requestClaim(keyId))).toBe(`${hash.slice(0, 32)}.${batch}`);
  });

  it('a run folder deleted and made again at the same path forgets the claims this process saw there', async () => {
    const dir = await tempDir('arbiter-ledger-');
    const layout = RunLayout.of(dir, 'run');
    const key = keyIdOf('again');
    await admitAll(layout, [item('again', [rollout('first', { response: 'the first answer' })])]);
    await assembleStepFile(layout, [key], 1);
    await rm(layout.requestsDir, { recursive: true });
    // Claimed again through another path to the same folder, as another process would.
    const alias = `${dir}-alias`;
    await symlink(dir, alias);
    expect((await admitAll(RunLayout.of(alias, 'run'), [item('again', [rollout('second', { response: 'the second answer' })])]))[0]!.outcome).toBe('new');
    // Remembered by path alone, the claim would still name the first batch, which is gone.
    const file = await assembleStepFile(layout, [key], 1);
    expect(JSON.parse((await readFile(file, 'utf8')).trim()).response).toBe('the second answer');
  });
});
