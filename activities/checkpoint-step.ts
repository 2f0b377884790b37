import type { TokenPrice } from '../src/config/prompt-cache-support';
import type { ReviewPolicy } from '../src/review/review-picker';
import { ApplicationFailure } from '@temporalio/activity';
import type { Execution } from '../src/contract/run-owner';
import { ChunkResultsIncomplete, writeCheckpoint, type CheckpointResult } from '../src/steps/checkpoint';
import { finalFailure, ownedRunDir } from './owned-run-dir';
import { recordStep } from '../src/metrics/arbiter-metrics';

export interface CheckpointStepInput {
  outputDir: string;
  runId: string;
  step: number;
  chunkCount: number;
  quarantined: number;
  price: TokenPrice | undefined;
  /** Return the rewards inline (small batches a trainer sent with submitRollouts). */
  returnRewards: boolean;
  review: ReviewPolicy;
  /** The batch key prepareStep returned. */
  batch?: string;
  /** The file prepareStep read (BatchInfo.source), named in the manifest; `keep: false` deletes it once checkpointed if the run staged it. */
  input?: { file: string; keep: boolean };
  execution?: Execution;
}

/** Writes the step's reward artifact and manifest line; the step is done only after this. */
export async function checkpointStep(input: CheckpointStepInput): Promise<CheckpointResult> {
  try {
    return await checkpointOnce(input);
  } catch (err) {
    if (err instanceof ChunkResultsIncomplete) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw finalFailure(err);
  }
}

async function checkpointOnce(input: CheckpointStepInput): Promise<CheckpointResult> {
  return writeCheckpoint({
    layout: await ownedRunDir(input.outputDir, input.runId, input.execution),
    step: input.step,
    chunkCount: input.chunkCount,
    quarantined: input.quarantined,
    price: input.price,
    returnRewards: input.returnRewards,
    review: input.review,
    batch: input.batch,
    input: input.input,
    execution: input.execution,
    onWritten: (entry) => recordStep(input.runId, entry.summary),
  });
}
