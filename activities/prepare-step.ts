import { dirname } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { RunLayout } from '../src/run-layout';
import { prepareBatch, type BatchInfo } from '../src/steps/prepare-batch';
import { checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/worker/worker-settings';

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
export async function prepareStep(input: PrepareStepInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<BatchInfo> {
  const layout = RunLayout.of(input.outputDir, input.runId);
  try {
    // A path comes from a run config or an Update: only folders the worker's operator allows
    // are read (plus the run's inbox, where the worker stages inline rollouts itself).
    const source = await checkRolloutFile(input.file, [...settings.allowedRolloutDirs, dirname(layout.inbox(input.step))]);
    return await prepareBatch({
      source,
      layout,
      step: input.step,
      chunkSize: input.chunkSize,
      maxChunks: input.maxChunks,
      groupForPreference: input.groupForPreference,
    });
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ApplicationFailure.nonRetryable(`rollout file ${input.file} not found`, 'RolloutsMissing');
    }
    throw err;
  }
}
