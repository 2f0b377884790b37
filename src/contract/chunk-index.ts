import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseOrThrow } from '../config/validation-error';
import { writeFileAtomic } from '../io/atomic-write';
import type { RunLayout } from './run-layout';

/** Byte range `[start, end]` (inclusive) of a chunk in the step's batch file, and its size. */
export type ChunkRef = [start: number, end: number, count: number];

const ChunkIndexSchema = z.array(z.tuple([z.number(), z.number(), z.number()]));

export function parseChunkIndex(text: string): ChunkRef[] {
  return parseOrThrow(ChunkIndexSchema, JSON.parse(text), (issues) => new Error(`corrupt chunk index: ${issues.join('; ')}`));
}

/** The chunks prepareBatch cut the step's batch into. */
export async function readChunkIndex(layout: RunLayout, step: number): Promise<ChunkRef[]> {
  return parseChunkIndex(await readFile(layout.chunkIndex(step), 'utf8'));
}

export async function writeChunkIndex(layout: RunLayout, step: number, chunks: ChunkRef[]): Promise<void> {
  await writeFileAtomic(layout.chunkIndex(step), JSON.stringify(chunks));
}
