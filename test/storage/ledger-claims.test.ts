import { describe, expect, it } from 'vitest';
import { claimAll, ledgerReads, mayHoldFormerKeys, readEntry } from '../../src/contract/ledger-store';
import { admitAll, assembleStepFile, contentHash, keyIdOf, type ToAdmit } from '../../src/contract/request-ledger';
import { RunLayout } from '../../src/contract/run-layout';
import { joinLocation } from '../../src/storage/location';
import { storeFor } from '../../src/storage/stores';
import { rollout } from '../support/fixtures';
import { useS3Server } from '../helpers/s3-server';

const s3 = useS3Server();

let n = 0;
const s3Run = () => RunLayout.of(s3().location(`runs${++n}`), 'run');

function item(key: string, rollouts: unknown[]): ToAdmit {
  return { request: { key, hash: contentHash(rollouts), rollouts }, rollouts };
}

function entry(key: string, rollouts: ReturnType<typeof rollout>[]) {
  return { keyId: keyIdOf(key), record: { key, hash: contentHash(rollouts), pinned: false, count: rollouts.length, refused: [] }, rollouts };
}

describe('the request ledger in S3 (claims are objects created with If-None-Match)', () => {
  it("two racing claims of one key: one wins, and both then read the winner's content", async () => {
    const layout = s3Run();
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const mine = entry(key, [rollout('mine')]);
      const theirs = entry(key, [rollout('theirs'), rollout('theirs-2')]);
      const [[a], [b]] = await Promise.all([claimAll(layout, [mine]), claimAll(layout, [theirs])]);
      expect([a, b].sort()).toEqual([false, true]);
      const winner = a ? mine : theirs;
      const found = await readEntry(layout, keyIdOf(key), ledgerReads(), { former: false });
      expect(found!.record).toMatchObject({ key, hash: winner.record.hash, count: winner.rollouts.length });
      expect(await found!.rollouts()).toEqual(winner.rollouts);
    }
  });

  it('racing admissions of one key: one records it, the other finds it (same content) or is refused (other content)', async () => {
    const layout = s3Run();
    expect(await mayHoldFormerKeys(layout)).toBe(false);
    expect(await storeFor(layout.requestsDir).readText(joinLocation(layout.requestsDir, 'ledger-batches'))).toBeDefined();
    const same = [rollout('s1'), rollout('s2')];
    const [x, y] = await Promise.all([admitAll(layout, [item('same', same)]), admitAll(layout, [item('same', same)])]);
    expect([x[0]!.outcome, y[0]!.outcome].sort()).toEqual(['known', 'new']);
    const [p, q] = await Promise.all([admitAll(layout, [item('other', [rollout('o1')])]), admitAll(layout, [item('other', [rollout('o2')])])]);
    expect([p[0]!.outcome, q[0]!.outcome].sort()).toEqual(['conflict', 'new']);
  });

  it('a placement is readable back, and moves when the key is placed again', async () => {
    const layout = s3Run();
    await admitAll(layout, [item('k1', [rollout('x')]), item('k2', [rollout('y'), rollout('z')])]);
    const keyIds = [keyIdOf('k1'), keyIdOf('k2')];
    const file = await assembleStepFile(layout, keyIds, 7);
    await assembleStepFile(layout, keyIds, 7); // idempotent
    expect(file).toBe(layout.requestsInbox(7));
    const ids = (await storeFor(file).readText(file))!.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual([`${keyIds[0]}~0`, `${keyIds[1]}~0`, `${keyIds[1]}~1`]);
    for (const keyId of keyIds) {
      expect(await storeFor(file).readText(layout.requestPlacement(keyId))).toBe('7');
      expect((await readEntry(layout, keyId))!.record.step).toBe(7);
    }
    expect((await admitAll(layout, [item('k2', [rollout('y'), rollout('z')])]))[0]).toMatchObject({ outcome: 'known', step: 7 });
    await assembleStepFile(layout, [keyIds[0]!], 8);
    expect((await readEntry(layout, keyIds[0]!))!.record.step).toBe(8);
    expect((await readEntry(layout, keyIds[1]!))!.record.step).toBe(7);
  });

  it('a ledger with keys stored before its marker is read both ways', async () => {
    const layout = s3Run();
    const old = [rollout('o1')];
    const keyId = keyIdOf('old-key');
    const store = storeFor(layout.requestsDir);
    await store.write(layout.requestRecord(keyId), JSON.stringify({ key: 'old-key', hash: contentHash(old), pinned: false, count: 1, refused: [] }));
    await store.write(layout.requestRollouts(keyId), JSON.stringify({ ...old[0], id: `${keyId}~0` }) + '\n');
    expect(await mayHoldFormerKeys(layout)).toBe(true);
    expect((await admitAll(layout, [item('old-key', old)]))[0]!.outcome).toBe('known');
    await assembleStepFile(layout, [keyId], 3);
    expect(JSON.parse((await store.readText(layout.requestRecord(keyId)))!).step).toBe(3);
  });
});
