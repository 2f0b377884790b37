import { z } from 'zod';
import { parseOrThrow } from '../config/validation-error';
import { readStoredText } from '../storage/read-text';
import { storeFor } from '../storage/stores';
import type { RunLayout } from './run-layout';

/** Byte range `[start, end]` (inclusive) of a chunk in the step's batch file, and its size. */
export type ChunkRef = [start: number, end: number, count: number];

const ChunkIndexSchema = z.array(z.tuple([z.number(), z.number(), z.number()]));

export function parseChunkIndex(text: string): ChunkRef[] {
  return parseOrThrow(ChunkIndexSchema, JSON.parse(text), (issues) => new Error(`corrupt chunk index: ${issues.join('; ')}`));
}

/** The chunks prepareBatch cut the step's batch into. */
export async function readChunkIndex(layout: RunLayout, step: number): Promise<ChunkRef[]> {
  return parseChunkIndex(await readStoredText(layout.chunkIndex(step)));
}

export async function writeChunkIndex(layout: RunLayout, step: number, chunks: ChunkRef[]): Promise<void> {
  const path = layout.chunkIndex(step);
  await storeFor(path).write(path, JSON.stringify(chunks));
}
