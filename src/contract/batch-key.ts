import { createHash } from 'node:crypto';
import { storeFor } from '../storage/stores';
import type { RunLayout } from './run-layout';

/** The step's work folder holds another batch than the one this activity was sent to score. */
export class BatchChanged extends Error {
  override name = 'BatchChanged';
  constructor(step: number, expected: string, found: string | undefined) {
    super(
      `step ${step}: the work folder holds batch ${found ?? '(none)'}, not ${expected} this activity was given; ` +
        'the step was prepared again since (another batch or scoring config), so this attempt stops',
    );
  }
}

/**
 * What a step's rewards depend on: the validated batch (its sha256) and the config that scores
 * it. Partial results and manifest lines carry it, so nothing is reused for other rollouts or
 * another judge.
 */
export function batchKey(batchSha256: string, scoring: unknown): string {
  return createHash('sha256')
    .update(`batch ${batchSha256}\nscoring ${JSON.stringify(scoring ?? null)}\n`)
    .digest('hex');
}

/** The key prepareBatch wrote for the step; checked against `expected` when the caller has one. */
export async function readBatchKey(layout: RunLayout, step: number, expected?: string): Promise<string> {
  const path = layout.batchKey(step);
  const text = await storeFor(path).readText(path);
  if (text === undefined) {
    if (expected !== undefined) throw new BatchChanged(step, expected, undefined);
    throw new Error(`step ${step} has no ${path}: prepare the step (prepareBatch) first`);
  }
  const key = text.trim();
  if (expected !== undefined && key !== expected) throw new BatchChanged(step, expected, key);
  return key;
}

export async function writeBatchKey(layout: RunLayout, step: number, key: string): Promise<void> {
  const path = layout.batchKey(step);
  await storeFor(path).write(path, key + '\n');
}
