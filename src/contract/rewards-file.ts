import { storeFor } from '../storage/stores';
import type { RewardRecord } from './reward-record';

/** A step's rewards file, line by line; undefined when there is no such file. */
export async function readRewardsFile(file: string): Promise<RewardRecord[] | undefined> {
  const text = await storeFor(file).readText(file);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RewardRecord);
}
