import { joinLocation } from '../storage/location';
import { storeFor } from '../storage/stores';
import { RunLayout, versionDir } from './run-layout';

export { versionDir };

/**
 * A run's rewards come in versions: the run's own folder is the original, and a re-judge writes
 * `<runDir>/versions/<name>/` with exactly a run folder's layout (its steps' rewards files and
 * manifest.jsonl), so everything that reads a run folder reads a version through a RunLayout.
 */
export const ORIGINAL_VERSION = 'original';

/** A version's name becomes a folder name: the same rule as a run id, and never the original's. */
export function isVersionName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name) && name !== ORIGINAL_VERSION;
}

/** The rewards of one version, as a run folder: the original is the run's own folder. */
export function rewardSource(runDir: string, version: string = ORIGINAL_VERSION): RunLayout {
  return new RunLayout(version === ORIGINAL_VERSION ? runDir : versionDir(runDir, version));
}

/** The versions the run has besides the original: folders under versions/ holding a manifest, by name. */
export async function listVersions(runDir: string): Promise<string[]> {
  const store = storeFor(runDir);
  const kept: string[] = [];
  for (const name of await store.list(joinLocation(runDir, 'versions'))) {
    const manifest = new RunLayout(versionDir(runDir, name)).manifest;
    if ((await store.stat(manifest).catch(() => undefined)) !== undefined) kept.push(name);
  }
  return kept;
}
