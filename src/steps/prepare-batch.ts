import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { RolloutSchema, type Rollout } from '../config/rollout';
import { describeZodIssues } from '../config/validation-error';
import { AtomicJsonlWriter } from '../io/jsonl-writer';
import { readLines } from '../io/read-lines';
import { writeFileAtomic } from '../io/atomic-write';
import type { RunLayout } from '../run-layout';
import { groupKey } from './group-key';

/** Byte range `[start, end]` (inclusive) of a chunk in the step's batch file, and its size. */
export type ChunkRef = [start: number, end: number, count: number];

export interface BatchInfo {
  step: number;
  source: string;
  /** Non-blank lines read from the source. */
  lines: number;
  valid: number;
  quarantined: number;
  chunkCount: number;
}

export interface QuarantineLine {
  line: number;
  error: string;
  preview: string;
}

/**
 * Validates a step's rollout file line by line. Good records go to the step's batch file,
 * cut into chunks of `chunkSize`; bad ones go to the quarantine file with their line number
 * and the reason, and cost the step nothing else. Re-running it gives the same files.
 */
export async function prepareBatch(args: {
  source: string;
  layout: RunLayout;
  step: number;
  chunkSize: number;
  maxLineBytes?: number;
  /** Keep rollouts of one group (or prompt) in one chunk, for preference mode. */
  groupForPreference?: boolean;
}): Promise<BatchInfo> {
  const { source, layout, step, chunkSize } = args;
  // Preference mode holds the step in memory to gather groups scattered through the file.
  const groups = args.groupForPreference ? new Map<string, Rollout[]>() : undefined;
  const batch = new AtomicJsonlWriter(layout.batch(step));
  const quarantine = new AtomicJsonlWriter(layout.quarantine(step));
  const chunks: ChunkRef[] = [];
  const seen = new Set<string>();
  let lines = 0;
  let chunkStart = 0;
  let chunkCount = 0;

  const reject = (line: number, error: string, preview: string) =>
    quarantine.write({ line, error, preview: preview.slice(0, 200) } satisfies QuarantineLine);

  try {
    for await (const raw of readLines(source, { maxLineBytes: args.maxLineBytes })) {
      if ('error' in raw) {
        lines++;
        const why = raw.error === 'too-long' ? `line of ${raw.byteLength} bytes exceeds the limit` : 'invalid UTF-8';
        await reject(raw.lineNumber, why, raw.preview);
        continue;
      }
      if (raw.text.trim() === '') continue;
      lines++;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch (err) {
        await reject(raw.lineNumber, `broken JSON: ${(err as Error).message}`, raw.text);
        continue;
      }
      const parsed = RolloutSchema.safeParse(json);
      if (!parsed.success) {
        await reject(raw.lineNumber, describeZodIssues(parsed.error).join('; '), raw.text);
        continue;
      }
      if (seen.has(parsed.data.id)) {
        await reject(raw.lineNumber, `duplicate id ${JSON.stringify(parsed.data.id)}`, raw.text);
        continue;
      }
      seen.add(parsed.data.id);
      if (groups) {
        const key = groupKey(parsed.data);
        const group = groups.get(key);
        if (group) group.push(parsed.data);
        else groups.set(key, [parsed.data]);
        continue;
      }
      if (chunkCount === 0) chunkStart = batch.bytes;
      await batch.write(parsed.data);
      chunkCount++;
      if (chunkCount === chunkSize) {
        chunks.push([chunkStart, batch.bytes - 1, chunkCount]);
        chunkCount = 0;
      }
    }
    // Whole groups per chunk: a chunk closes at the first group boundary at or past chunkSize.
    for (const group of groups?.values() ?? []) {
      if (chunkCount === 0) chunkStart = batch.bytes;
      for (const rollout of group) await batch.write(rollout);
      chunkCount += group.length;
      if (chunkCount >= chunkSize) {
        chunks.push([chunkStart, batch.bytes - 1, chunkCount]);
        chunkCount = 0;
      }
    }
    if (chunkCount > 0) chunks.push([chunkStart, batch.bytes - 1, chunkCount]);
  } catch (err) {
    await Promise.all([batch.abort(), quarantine.abort()]);
    throw err;
  }

  await batch.commit();
  if (quarantine.lines > 0) await quarantine.commit();
  else {
    await quarantine.abort();
    await rm(layout.quarantine(step), { force: true });
  }
  await writeFileAtomic(layout.chunkIndex(step), JSON.stringify(chunks));
  return { step, source, lines, valid: seen.size, quarantined: quarantine.lines, chunkCount: chunks.length };
}

const ChunkIndexSchema = z.array(z.tuple([z.number(), z.number(), z.number()]));

export function parseChunkIndex(text: string): ChunkRef[] {
  const parsed = ChunkIndexSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`corrupt chunk index: ${describeZodIssues(parsed.error).join('; ')}`);
  return parsed.data;
}
