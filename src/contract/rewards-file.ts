import { readFile } from 'node:fs/promises';
import type { RewardRecord } from './reward-record';

/** A step's rewards file, line by line; undefined when there is no such file. */
export async function readRewardsFile(file: string): Promise<RewardRecord[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RewardRecord);
}
