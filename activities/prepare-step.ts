import { ApplicationFailure } from '@temporalio/activity';
import { RunLayout } from '../src/run-layout';
import { prepareBatch, type BatchInfo } from '../src/steps/prepare-batch';

export interface PrepareStepInput {
  outputDir: string;
  runId: string;
  step: number;
  /** The step's rollout file: the trainer's, or one staged from a submitRollouts update. */
  file: string;
  chunkSize: number;
  maxChunks: number;
  /** Preference mode compares rollouts of one prompt: keep each group inside one chunk. */
  groupForPreference: boolean;
}

/** Validates and chunks a step's rollouts; bad lines go to quarantine with their line numbers. */
export async function prepareStep(input: PrepareStepInput): Promise<BatchInfo> {
  try {
    return await prepareBatch({
      source: input.file,
      layout: RunLayout.of(input.outputDir, input.runId),
      step: input.step,
      chunkSize: input.chunkSize,
      maxChunks: input.maxChunks,
      groupForPreference: input.groupForPreference,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ApplicationFailure.nonRetryable(`rollout file ${input.file} not found`, 'RolloutsMissing');
    }
    throw err;
  }
}
