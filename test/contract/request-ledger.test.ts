import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
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
    const files = (await readdir(layout.requestsDir)).filter((f) => f !== 'batches' && f !== 'ledger-batches');
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
    for (const keyId of keyIds) expect(await readlink(layout.requestPlacement(keyId))).toBe('7');
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
});
