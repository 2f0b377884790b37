import { readFile } from 'node:fs/promises';
import type { RewardRecord } from '../contract/reward-record';

/** A step's rewards file as this service sees the run folder; undefined when it cannot be read here. */
export async function readRewardsFile(file: string): Promise<RewardRecord[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RewardRecord);
}
