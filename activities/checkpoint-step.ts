import { RunLayout } from '../src/run-layout';
import type { ReviewPolicy } from '../src/review/review-picker';
import { ApplicationFailure } from '@temporalio/activity';
import { ChunkResultsIncomplete, checkpointStep as checkpoint, type CheckpointResult } from '../src/steps/checkpoint';

export interface CheckpointStepInput {
  outputDir: string;
  runId: string;
  step: number;
  chunkCount: number;
  quarantined: number;
  price: { inputPerMTok: number; outputPerMTok: number } | undefined;
  /** Return the rewards inline (small batches a trainer sent with submitRollouts). */
  returnRewards: boolean;
  review: ReviewPolicy;
  workflowId: string;
}

/** Writes the step's reward artifact and manifest line; the step is done only after this. */
export async function checkpointStep(input: CheckpointStepInput): Promise<CheckpointResult> {
  try {
    return await checkpointOnce(input);
  } catch (err) {
    if (err instanceof ChunkResultsIncomplete) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

function checkpointOnce(input: CheckpointStepInput): Promise<CheckpointResult> {
  return checkpoint({
    layout: RunLayout.of(input.outputDir, input.runId),
    step: input.step,
    chunkCount: input.chunkCount,
    quarantined: input.quarantined,
    price: input.price,
    returnRewards: input.returnRewards,
    review: input.review,
  });
}
