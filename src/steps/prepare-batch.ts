import { RolloutSchema, storedRollout, type Rollout } from '../config/rollout';
import { describeZodIssues } from '../config/validation-error';
import type { RunLayout } from '../contract/run-layout';
import { storeFor } from '../storage/stores';
import { batchKey, writeBatchKey } from '../contract/batch-key';
import { writeChunkIndex, type ChunkRef } from '../contract/chunk-index';
import { groupKey } from './group-key';
import type { CanaryItem } from './canary-set';
import { writeCanaryIndex, type CanaryIndexEntry } from './canary-tally';

export interface BatchInfo {
  step: number;
  source: string;
  /** Non-blank lines read from the source. */
  lines: number;
  valid: number;
  quarantined: number;
  /** Quarantined lines by kind of fault, e.g. `{"broken JSON": 3, "duplicate id": 1}`. */
  quarantineReasons: Record<string, number>;
  chunkCount: number;
  /** The batch key (batch-key.ts): chunk and checkpoint activities are bound to it. */
  key: string;
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
  /**
   * Keep rollouts of one group (or prompt) in one chunk: preference mode compares them, and
   * group prompt caching judges a group's first before the others (judge-chunk.ts).
   */
  keepGroupsTogether?: boolean;
  /**
   * With keepGroupsTogether, a group larger than a chunk is cut into chunk-sized parts (group
   * prompt caching: each part has its own first call, and a step whose rollouts all share one
   * prompt keeps its parallelism). Preference mode compares a group whole and never cuts it.
   */
  cutLargeGroups?: boolean;
  /** Chunks grow past chunkSize when a step would otherwise need more activities than this. */
  maxChunks?: number;
  /** The config the batch will be scored with (judge, rewards, fallback): part of the batch key. */
  scoring?: unknown;
  /** Gold items judged with the step (rubric mode), after its rollouts; they never reach its rewards. */
  canaries?: readonly CanaryItem[];
}): Promise<BatchInfo> {
  const { source, layout, step } = args;
  const store = storeFor(layout.runDir);
  // Until the new key is written, no chunk may take the folder's batch for the old one.
  await store.remove(layout.batchKey(step));
  await store.remove(layout.canaryIndex(step));
  // Gathering groups scattered through the file holds the step in memory.
  const groups = args.keepGroupsTogether ? new Map<string, Rollout[]>() : undefined;
  const batch = store.jsonlWriter(layout.batch(step));
  const quarantine = store.jsonlWriter(layout.quarantine(step));
  const seen = new Set<string>();
  let lines = 0;
  // Where each unit (a rollout, or a whole preference group) starts in the batch, and its size.
  const unitStarts: number[] = [];
  const unitSizes: number[] = [];

  const canaryIndex: CanaryIndexEntry[] = [];
  const quarantineReasons: Record<string, number> = {};
  const reject = (line: number, kind: string, error: string, preview: string) => {
    quarantineReasons[kind] = (quarantineReasons[kind] ?? 0) + 1;
    return quarantine.write({ line, error, preview: preview.slice(0, 200) } satisfies QuarantineLine);
  };

  try {
    for await (const raw of storeFor(source).readLines(source, { maxLineBytes: args.maxLineBytes })) {
      if ('error' in raw) {
        lines++;
        const kind = raw.error === 'too-long' ? 'line too long' : 'invalid UTF-8';
        const why = raw.error === 'too-long' ? `line of ${raw.byteLength} bytes exceeds the limit` : 'invalid UTF-8';
        await reject(raw.lineNumber, kind, why, raw.preview);
        continue;
      }
      if (raw.text.trim() === '') continue;
      lines++;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch (err) {
        await reject(raw.lineNumber, 'broken JSON', `broken JSON: ${(err as Error).message}`, raw.text);
        continue;
      }
      const parsed = RolloutSchema.safeParse(json);
      if (!parsed.success) {
        await reject(raw.lineNumber, 'not a rollout', describeZodIssues(parsed.error).join('; '), raw.text);
        continue;
      }
      if (seen.has(parsed.data.id)) {
        await reject(raw.lineNumber, 'duplicate id', `duplicate id ${JSON.stringify(parsed.data.id)}`, raw.text);
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
      unitStarts.push(batch.bytes);
      unitSizes.push(1);
      await batch.write(storedRollout(parsed.data));
    }
    const cap = args.cutLargeGroups ? effectiveChunkSize(seen.size + (args.canaries?.length ?? 0), args.chunkSize, args.maxChunks) : Infinity;
    for (const group of groups?.values() ?? []) {
      for (let from = 0; from < group.length; from += cap) {
        const part = group.slice(from, from + cap);
        unitStarts.push(batch.bytes);
        unitSizes.push(part.length);
        for (const rollout of part) await batch.write(storedRollout(rollout));
      }
    }
    const canaries = args.canaries ?? [];
    for (const [i, entry] of canaryEntries(canaries, seen).entries()) {
      const { prompt, response, reference } = canaries[i]!;
      unitStarts.push(batch.bytes);
      unitSizes.push(1);
      await batch.write({ id: entry.batchId, prompt, response, ...(reference !== undefined && { reference }) });
      canaryIndex.push(entry);
    }
  } catch (err) {
    await Promise.all([batch.abort(), quarantine.abort()]);
    throw err;
  }

  await batch.commit();
  if (quarantine.lines > 0) await quarantine.commit();
  else {
    await quarantine.abort();
    await store.remove(layout.quarantine(step));
  }
  const chunks = cutChunks(unitStarts, unitSizes, batch.bytes, effectiveChunkSize(seen.size + canaryIndex.length, args.chunkSize, args.maxChunks));
  await writeChunkIndex(layout, step, chunks);
  // Written before the key: a chunk that finds the key finds the canaries too.
  if (canaryIndex.length > 0) await writeCanaryIndex(layout, step, canaryIndex);
  const key = batchKey(batch.sha256(), args.scoring);
  await writeBatchKey(layout, step, key);
  return { step, source, lines, valid: seen.size, quarantined: quarantine.lines, quarantineReasons, chunkCount: chunks.length, key };
}

/**
 * The canaries' ids in the batch: their own behind a prefix no rollout id of the step starts
 * with, so a trainer's id can never be taken for a canary (nor a canary's reward for a rollout's).
 */
function canaryEntries(canaries: readonly CanaryItem[], rolloutIds: Set<string>): CanaryIndexEntry[] {
  if (canaries.length === 0) return [];
  let prefix = 'canary:';
  while ([...rolloutIds].some((id) => id.startsWith(prefix))) prefix = `~${prefix}`;
  return canaries.map((c) => ({ batchId: `${prefix}${c.id}`, id: c.id, label: c.label }));
}

/**
 * The chunk size actually used: the configured one, or larger when the step is so big that
 * it would need more than `maxChunks` activities (history grows with every activity).
 */
export function effectiveChunkSize(rollouts: number, chunkSize: number, maxChunks = Infinity): number {
  return Math.max(chunkSize, Math.ceil(rollouts / maxChunks));
}

/** Cuts units into chunks; a chunk closes at the first unit boundary at or past `size`. */
function cutChunks(starts: number[], sizes: number[], totalBytes: number, size: number): ChunkRef[] {
  const chunks: ChunkRef[] = [];
  let first = 0;
  let count = 0;
  for (let i = 0; i < starts.length; i++) {
    count += sizes[i]!;
    if (count >= size || i === starts.length - 1) {
      const end = i + 1 < starts.length ? starts[i + 1]! - 1 : totalBytes - 1;
      chunks.push([starts[first]!, end, count]);
      first = i + 1;
      count = 0;
    }
  }
  return chunks;
}
