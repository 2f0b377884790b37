import type { RewardRecord } from '../../src/contract/reward-record';
import { readManifest } from '../../src/contract/manifest';
import { joinLocation } from '../../src/storage/location';
import { readStoredText } from '../../src/storage/read-text';

/** Every reward record a run checkpointed (its folder, or its `s3://` prefix), read through its manifest, in step order. */
export async function readRunRecords(runDir: string) {
  const manifest = await readManifest(joinLocation(runDir, 'manifest.jsonl'));
  const records: RewardRecord[] = [];
  for (const m of manifest) {
    const text = await readStoredText(joinLocation(runDir, m.file));
    records.push(...text.trim().split('\n').map((l) => JSON.parse(l) as RewardRecord));
  }
  return { manifest, records };
}

/** Every line of a run's manifest as written, the closing `{"end": ...}` line included (untyped: tests read both kinds alike). */
export async function readManifestLines(runDir: string): Promise<any[]> {
  const text = await readStoredText(joinLocation(runDir, 'manifest.jsonl'));
  return text.trim().split('\n').map((l) => JSON.parse(l));
}
