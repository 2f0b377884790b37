import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RewardRecord } from '../../src/contract/reward-record';
import { readManifest } from '../../src/contract/manifest';

/** Every reward record a run checkpointed, read through its manifest, in step order. */
export async function readRunRecords(runDir: string) {
  const manifest = await readManifest(join(runDir, 'manifest.jsonl'));
  const records: RewardRecord[] = [];
  for (const m of manifest) {
    const text = await readFile(join(runDir, m.file), 'utf8');
    records.push(...text.trim().split('\n').map((l) => JSON.parse(l) as RewardRecord));
  }
  return { manifest, records };
}
