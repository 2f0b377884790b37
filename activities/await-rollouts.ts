import { access } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { stepRolloutFile } from '../src/run-layout';
import { checkRolloutDir, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/worker/worker-settings';

export interface AwaitRolloutsInput {
  directory: string;
  step: number;
  waitTimeoutSeconds: number;
}

const POLL_MS = 1000;

/**
 * Waits for the trainer's rollout file of a step, heartbeating so the wait shows in the Web UI
 * and a dead worker is noticed. Its own activity, so a run can be cancelled while it waits.
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
  const deadline = Date.now() + input.waitTimeoutSeconds * 1000;
  for (;;) {
    try {
      await access(file);
      return file;
    } catch {
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(
          `no rollout file ${file} after ${input.waitTimeoutSeconds} s (rollouts.waitTimeoutSeconds)`,
          'RolloutsMissing',
        );
      }
      ctx.heartbeat({ waitingFor: file });
      await ctx.sleep(POLL_MS);
    }
  }
}
