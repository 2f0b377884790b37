import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { admitAll, contentHash, keyIdOf, recordPlacement, writeStepInbox, type ToAdmit } from '../../src/contract/request-ledger';
import { RunLayout } from '../../src/contract/run-layout';
import { rollout, tempDir } from '../support/fixtures';

function item(key: string, rollouts: unknown[], extra: Partial<ToAdmit> = {}): ToAdmit {
  return { request: { key, hash: contentHash(rollouts), rollouts }, rollouts, ...extra };
}

describe('request ledger (one record per key in the run folder)', () => {
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
    // Nothing was recorded for the lookup, and no temp file is left behind.
    const files = await readdir(layout.requestsDir);
    expect(files.sort()).toEqual(
      [`${keyIdOf('key-a')}.json`, `${keyIdOf('key-a')}.rollouts.jsonl`, `${keyIdOf('key-b')}.json`, `${keyIdOf('key-b')}.rollouts.jsonl`].sort(),
    );
  });

  it('two admissions of one key at once: one records it, the other finds it, and the record is whole', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    const rollouts = Array.from({ length: 50 }, (_, i) => rollout(`r${i}`));
    for (let round = 0; round < 10; round++) {
      const key = `race-${round}`;
      const [x, y] = await Promise.all([admitAll(layout, [item(key, rollouts)]), admitAll(layout, [item(key, rollouts)])]);
      expect([x[0]!.outcome, y[0]!.outcome].sort()).toEqual(['known', 'new']);
      const record = JSON.parse(await readFile(layout.requestRecord(keyIdOf(key)), 'utf8'));
      expect(record).toMatchObject({ key, count: 50 });
    }
  });

  it('a step assembled from requests holds their rollouts in order, and each record names the step', async () => {
    const layout = RunLayout.of(await tempDir('arbiter-ledger-'), 'run');
    await admitAll(layout, [item('k1', [rollout('x')]), item('k2', [rollout('y'), rollout('z')])]);
    const keyIds = [keyIdOf('k1'), keyIdOf('k2')];
    const file = await writeStepInbox(layout, keyIds, 7);
    const ids = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
    expect(ids).toEqual([`${keyIds[0]}~0`, `${keyIds[1]}~0`, `${keyIds[1]}~1`]);
    await recordPlacement(layout, keyIds, 7);
    await recordPlacement(layout, keyIds, 7); // idempotent
    for (const keyId of keyIds) expect(JSON.parse(await readFile(layout.requestRecord(keyId), 'utf8')).step).toBe(7);
    const known = await admitAll(layout, [item('k2', [rollout('y'), rollout('z')])]);
    // Placed but not yet checkpointed: known with its step, no rewards yet.
    expect(known[0]).toMatchObject({ outcome: 'known', step: 7 });
    expect(known[0]).not.toHaveProperty('rewards');
  });
});
