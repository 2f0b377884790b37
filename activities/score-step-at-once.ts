import type { ChunkResult } from '../src/steps/judge-chunk';
import type { BatchInfo } from '../src/steps/prepare-batch';
import type { CheckpointResult } from '../src/steps/checkpoint';
import { quarantineExceeded } from '../src/steps/quarantine-share';
import { workerSettingsFromEnv, type WorkerSettings } from '../src/config/worker-settings';
import { prepareStep, type PrepareStepInput } from './prepare-step';
import { scoreChunk, type ScoreChunkInput } from './score-chunk';
import { checkpointStep, type CheckpointStepInput } from './checkpoint-step';

export interface ScoreStepAtOnceInput {
  prepare: PrepareStepInput;
  /** Each chunk's input but its number and batch key, which preparing gives. */
  chunks: Omit<ScoreChunkInput, 'chunk' | 'batch'>;
  checkpoint: Omit<CheckpointStepInput, 'chunkCount' | 'quarantined' | 'batch' | 'input'> & { keepInput: boolean };
  /** The run's quarantine.maxShare: a step above it is prepared, not judged (the run pauses on it). */
  maxQuarantineShare: number;
}

export interface StepScoredAtOnce {
  batch: BatchInfo;
  chunks: ChunkResult[];
  /** Absent when the step was not judged (quarantine above the run's share). */
  checkpoint?: CheckpointResult;
}

/**
 * A step scored at once (workflows/score-at-once.ts): prepare, every chunk and the checkpoint,
 * one after another in one local activity, for a judge that answers at once. The same three
 * activities' code, so the step's files are exactly those of a step scored in three; run again
 * after a crash, each part finds its work done (prepare gives the same batch, chunks resume from
 * their partial files, the checkpoint returns the line it wrote).
 */
export async function scoreStepAtOnce(input: ScoreStepAtOnceInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<StepScoredAtOnce> {
  const batch = await prepareStep(input.prepare, settings);
  if (quarantineExceeded(batch, input.maxQuarantineShare)) return { batch, chunks: [] };
  const chunks: ChunkResult[] = [];
  for (let chunk = 0; chunk < batch.chunkCount; chunk++) chunks.push(await scoreChunk({ ...input.chunks, chunk, batch: batch.key }, settings));
  const { keepInput, ...checkpoint } = input.checkpoint;
  return {
    batch,
    chunks,
    checkpoint: await checkpointStep({
      ...checkpoint,
      chunkCount: batch.chunkCount,
      quarantined: batch.quarantined,
      batch: batch.key,
      input: { file: batch.source, keep: keepInput },
    }),
  };
}
