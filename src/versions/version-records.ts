import { joinLocation as join } from '../storage/location';
import { readManifestFile, type ManifestLine } from '../contract/manifest';
import type { RewardRecord } from '../contract/reward-record';
import { readRewardsFile } from '../contract/rewards-file';
import { isVersionName, listVersions, ORIGINAL_VERSION, rewardSource } from '../contract/reward-version';

/** A version named on the command line that the run does not have. */
export class VersionNotFound extends Error {
  override name = 'VersionNotFound';
  constructor(
    readonly version: string,
    readonly available: string[],
  ) {
    super(`the run has no version "${version}" (it has: ${available.join(', ')})`);
  }
}

/** One version's rewards: each checkpointed step's records, in step order, and what could not be read. */
export interface VersionRecords {
  version: string;
  steps: Map<number, RewardRecord[]>;
  /** Steps the manifest names whose rewards file is gone: said, never treated as empty. */
  missingFiles: number[];
}

/** Reads a version's rewards through its manifest (the steps that count as done, nothing in progress). */
export async function readVersionRecords(runDir: string, version: string): Promise<VersionRecords> {
  // A name that cannot be a version folder (a path, `..`) is not looked up at all.
  if (version !== ORIGINAL_VERSION && !isVersionName(version)) throw new VersionNotFound(version, [ORIGINAL_VERSION, ...(await listVersions(runDir))]);
  const layout = rewardSource(runDir, version);
  const { lines } = await readManifestFile(layout.manifest);
  const stepLines = lines.filter((l): l is ManifestLine => 'step' in l).sort((a, b) => a.step - b.step);
  if (stepLines.length === 0 && version !== ORIGINAL_VERSION) {
    const available = await listVersions(runDir);
    if (!available.includes(version)) throw new VersionNotFound(version, [ORIGINAL_VERSION, ...available]);
  }
  const steps = new Map<number, RewardRecord[]>();
  const missingFiles: number[] = [];
  for (const line of stepLines) {
    const records = await readRewardsFile(join(layout.runDir, line.file));
    if (records === undefined) missingFiles.push(line.step);
    else steps.set(line.step, records);
  }
  return { version, steps, missingFiles };
}
