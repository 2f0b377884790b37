import { ApplicationFailure } from '@temporalio/activity';
import { RunLayout } from '../src/contract/run-layout';
import { claimRunDir, RunDirTaken, type Execution } from '../src/contract/run-owner';
import { BatchChanged } from '../src/contract/batch-key';
import { checkOutputDir, workerSettingsFromEnv, WorkerSettingsRefusal } from '../src/config/worker-settings';

/**
 * The run's layout, once the run folder is known to belong to `execution`. Every activity that
 * writes into the folder goes through here. `execution` is absent only in activity tasks
 * scheduled by workflow code older than ownership; those keep the old behaviour.
 */
export async function ownedRunDir(outputDir: string, runId: string, execution: Execution | undefined): Promise<RunLayout> {
  await allowedOutputDir(outputDir);
  const layout = RunLayout.of(outputDir, runId);
  if (execution) {
    try {
      await claimRunDir(layout, execution);
    } catch (err) {
      throw finalFailure(err);
    }
  }
  return layout;
}

/**
 * The worker writes only where its operator allows (ARBITER_ALLOWED_OUTPUT_DIRS): a run config
 * comes from whoever can start a workflow. A refusal ends the run: its config must change.
 */
export async function allowedOutputDir(outputDir: string): Promise<void> {
  const settings = workerSettingsFromEnv();
  try {
    await checkOutputDir(outputDir, settings.allowedOutputDirs ?? [process.cwd()]);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}

/** Errors no retry can fix end the activity (and the run) with their message; others pass through. */
export function finalFailure(err: unknown): unknown {
  if (err instanceof RunDirTaken || err instanceof BatchChanged) return ApplicationFailure.nonRetryable(err.message, err.name);
  return err;
}
