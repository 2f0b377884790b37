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

/** Every line of a run's manifest as written, the closing `{"end": ...}` line included (untyped: tests read both kinds alike). */
export async function readManifestLines(runDir: string): Promise<any[]> {
  const text = await readFile(join(runDir, 'manifest.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l));
}
