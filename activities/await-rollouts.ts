import { ApplicationFailure, Context } from '@temporalio/activity';
import { stepReadyFile, stepRolloutFile } from '../src/contract/run-layout';
import { nameOf } from '../src/storage/location';
import { storeFor } from '../src/storage/stores';
import { checkStepFile } from '../src/steps/step-readiness';
import { checkRolloutDir, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';

export interface AwaitRolloutsInput {
  directory: string;
  step: number;
  waitTimeoutSeconds: number;
}

const POLL_MS = 1000;

/**
 * Waits until the trainer marks a step ready (`step-NNNNNN.ready`, created after the step file
 * is closed), heartbeating so the wait shows in the Web UI and a dead worker is noticed. The
 * step file alone proves nothing: a trainer may still be writing it. Its own activity, so a run
 * can be cancelled while it waits.
 */
export async function awaitRollouts(input: AwaitRolloutsInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<string> {
  const ctx = Context.current();
  // Refuse a folder the worker may not read now, not after waiting a day for a file (prepareStep checks the file itself).
  try {
    await checkRolloutDir(input.directory, settings.allowedRolloutDirs);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
  const file = stepRolloutFile(input.directory, input.step);
  const marker = stepReadyFile(input.directory, input.step);
  const deadline = Date.now() + input.waitTimeoutSeconds * 1000;
  for (;;) {
    const stated = await storeFor(marker).readText(marker);
    if (stated === undefined) {
      if (Date.now() > deadline) throw await notReady(file, marker, input.waitTimeoutSeconds);
      ctx.heartbeat({ waitingFor: marker });
      await ctx.sleep(POLL_MS);
      continue;
    }
    const problem = await checkStepFile(file, marker, stated);
    // The trainer said the file is finished: what is wrong with it will not change by waiting.
    if (problem) throw ApplicationFailure.nonRetryable(problem.message, problem.type);
    return file;
  }
}

async function notReady(file: string, marker: string, seconds: number): Promise<ApplicationFailure> {
  const exists = await storeFor(file).stat(file).then(
    (info) => info !== undefined,
    () => false,
  );
  const hint = exists
    ? `${nameOf(file)} is there but ${nameOf(marker)} is not: a trainer creates ${nameOf(marker)} once it has closed ${nameOf(file)}`
    : `the trainer writes ${nameOf(file)}, closes it, then creates ${nameOf(marker)}`;
  return ApplicationFailure.nonRetryable(
    `step not ready after ${seconds} s (rollouts.waitTimeoutSeconds): no ${marker}; ${hint}`,
    'RolloutsMissing',
  );
}
