import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-write';
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
  let key: string;
  try {
    key = (await readFile(layout.batchKey(step), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (expected !== undefined) throw new BatchChanged(step, expected, undefined);
    throw new Error(`step ${step} has no ${layout.batchKey(step)}: prepare the step (prepareBatch) first`);
  }
  if (expected !== undefined && key !== expected) throw new BatchChanged(step, expected, key);
  return key;
}

export async function writeBatchKey(layout: RunLayout, step: number, key: string): Promise<void> {
  await writeFileAtomic(layout.batchKey(step), key + '\n');
}
