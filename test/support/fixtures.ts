import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rollout } from '../../src/config/rollout';
import { stepReadyFile, stepRolloutFile } from '../../src/contract/run-layout';
import { isS3Location } from '../../src/storage/location';
import { storeFor } from '../../src/storage/stores';

export async function tempDir(prefix = 'arbiter-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function rollout(id: string, overrides: Partial<Rollout> = {}): Rollout {
  return {
    id,
    prompt: 'Flag the legal risk of this clause: the supplier may terminate at any time without notice.',
    response: 'High risk: the supplier may terminate at any time without notice, leaving no continuity.',
    reference: 'High risk: the supplier can terminate at will without notice.',
    ...overrides,
  };
}

/** Marks a step file ready, as a trainer does once the file is closed (docs/connect-your-trainer.md, Trainer exchange). */
export async function markReady(dir: string, step: number): Promise<void> {
  const marker = stepReadyFile(dir, step);
  if (isS3Location(marker)) await storeFor(marker).write(marker, '');
  else await writeFile(marker, '');
}

/**
 * Writes `step-NNNNNN.jsonl` files of `perStep` rollouts each into `dir` (a folder or an
 * `s3://` prefix), each marked ready;
 * returns all ids. `asMessages` writes each as a trajectory (a user turn, the answer).
 */
export async function writeSteps(dir: string, steps: number, perStep: number, firstStep = 1, asMessages = false): Promise<string[]> {
  if (!isS3Location(dir)) await mkdir(dir, { recursive: true });
  const ids: string[] = [];
  for (let step = firstStep; step < firstStep + steps; step++) {
    const lines: string[] = [];
    for (let i = 0; i < perStep; i++) {
      const id = `s${step}-r${i}`;
      ids.push(id);
      // Alternate good and empty answers so rewards vary; the id keeps every text distinct.
      const good = rollout(id);
      const response = i % 2 === 0 ? `${good.response} [${id}]` : `ok [${id}]`;
      const { prompt, ...rest } = good;
      const messages = [{ role: 'user', content: prompt }, { role: 'assistant', content: response }];
      lines.push(JSON.stringify(asMessages ? { id, reference: rest.reference, messages } : { ...good, response }));
    }
    const file = stepRolloutFile(dir, step);
    if (isS3Location(file)) await storeFor(file).write(file, lines.join('\n') + '\n');
    else await writeFile(file, lines.join('\n') + '\n');
    await markReady(dir, step);
  }
  return ids;
}
