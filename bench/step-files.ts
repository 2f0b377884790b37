/**
 * Rollouts for the benchmarks: deterministic text of chosen sizes, so runs are comparable, and
 * trainer step files of any length written as a trainer writes them (file, then ready marker).
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { stepReadyFile, stepRolloutFile } from '../src/contract/run-layout';

const WORDS = (
  'the supplier may terminate agreement notice period written days clause liability cap indemnify party ' +
  'confidential information disclose governing law courts payment invoice within thirty late interest ' +
  'assignment consent force majeure event delay performance obligation breach remedy damages warranty ' +
  'exclusive license term renewal automatic unless either party gives prior material adverse change audit'
).split(' ');

/** Deterministic pseudo-random text (xorshift), so runs are comparable. */
export function textOf(seed: number, chars: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const word = WORDS[x % WORDS.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, chars);
}

export interface RolloutSizes {
  prompt: number;
  response: number;
  reference: number;
}

export const DEFAULT_SIZES: RolloutSizes = { prompt: 240, response: 360, reference: 160 };

export function rolloutOf(step: number, i: number, sizes: RolloutSizes = DEFAULT_SIZES) {
  const id = `s${step}-r${i}`;
  return {
    id,
    prompt: `Flag the legal risk of clause ${i}: ${textOf(i * 3 + 1, sizes.prompt)}`,
    response: `[${id}] ${textOf(i * 3 + 2, sizes.response)}`,
    reference: textOf(i * 3 + 3, sizes.reference),
  };
}

export type BenchRollout = ReturnType<typeof rolloutOf>;

/** Writes the trainer's `step-NNNNNN.jsonl` of `count` rollouts, streaming, then marks it ready; returns its path and size. */
export async function writeStepFile(
  dir: string,
  step: number,
  count: number,
  sizes: RolloutSizes = DEFAULT_SIZES,
): Promise<{ path: string; bytes: number }> {
  await mkdir(dir, { recursive: true });
  const path = stepRolloutFile(dir, step);
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    const BATCH = 2000;
    for (let from = 0; from < count; from += BATCH) {
      let text = '';
      for (let i = from; i < Math.min(count, from + BATCH); i++) text += JSON.stringify(rolloutOf(step, i, sizes)) + '\n';
      const buf = Buffer.from(text);
      bytes += buf.length;
      await file.write(buf);
    }
  } finally {
    await file.close();
  }
  await writeFile(stepReadyFile(dir, step), `${count}\n`);
  return { path, bytes };
}

