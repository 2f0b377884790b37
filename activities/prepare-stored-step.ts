import { ApplicationFailure } from '@temporalio/activity';
import type { RunConfig } from '../src/config/run-config';
import { workerSettingsFromEnv, type WorkerSettings } from '../src/config/worker-settings';
import { readManifest, recordMissingStep } from '../src/contract/manifest';
import { RunLayout } from '../src/contract/run-layout';
import type { Execution } from '../src/contract/run-owner';
import type { BatchInfo } from '../src/steps/prepare-batch';
import { findStoredInput } from '../src/steps/stored-input';
import { ownedRunDir } from './owned-run-dir';
import { prepareInto, type BatchSettings } from './prepare-step';

export interface PrepareStoredStepInput extends BatchSettings {
  /** The run re-judged: read, never written. */
  run: { outputDir: string; runId: string; rollouts?: RunConfig['rollouts'] };
  /** The version, as a run folder: `<versionsDir>/<version>`. */
  versionsDir: string;
  version: string;
  execution: Execution;
}

/**
 * Prepares a step of a re-judge from the rollouts the run stored for it, into the version's
 * work folder, exactly as prepareStep prepares a run's step. Rollouts that are gone, or no longer
 * the ones the run scored (another count of valid rollouts), are named in the version's manifest
 * and the step is left out, not guessed at.
 */
export async function prepareStoredStep(input: PrepareStoredStepInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<BatchInfo | { missing: string }> {
  const run = RunLayout.of(input.run.outputDir, input.run.runId);
  const version = await ownedRunDir(input.versionsDir, input.version, input.execution);
  const line = (await readManifest(run.manifest)).find((l) => l.step === input.step);
  const found = line ? await findStoredInput(run, line, input.run.rollouts) : { missing: `step ${input.step}: the run has not checkpointed it` };
  const missing = async (reason: string) => {
    await recordMissingStep(version, { missing: { step: input.step, reason } });
    return { missing: reason };
  };
  if ('missing' in found) return missing(found.missing);
  let batch: BatchInfo;
  try {
    batch = await prepareInto(version, input, settings, { file: async () => found.file, readableDirs: [run.inboxDir], what: found.file });
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'RolloutsMissing') return missing(`step ${input.step}: its rollouts are not stored (${found.file} is gone)`);
    throw err;
  }
  if (batch.valid !== line!.summary.count) {
    return missing(
      `step ${input.step}: ${found.file} holds ${batch.valid} valid rollouts, the run scored ${line!.summary.count}: ` +
        'the file changed after the step was checkpointed, so these are not the rollouts the run scored',
    );
  }
  return batch;
}
