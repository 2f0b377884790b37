import { access } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RunLayout, stepRolloutFile } from '../src/run-layout';
import { prepareBatch, type BatchInfo } from '../src/steps/prepare-batch';

export interface PrepareStepInput {
  outputDir: string;
  runId: string;
  step: number;
  /** The directory the trainer writes step files into, or (from an update) the file itself. */
  source: string;
  fromDirectory: boolean;
  waitTimeoutSeconds: number;
  chunkSize: number;
  /** Preference mode compares rollouts of one prompt: keep each group inside one chunk. */
  groupForPreference: boolean;
}

const POLL_MS = 1000;

/**
 * Waits for the trainer's rollout file of the step (heartbeating, so a long wait is visible
 * and a dead worker is noticed), then validates and chunks it.
 */
export async function prepareStep(input: PrepareStepInput): Promise<BatchInfo> {
  const ctx = Context.current();
  const file = input.fromDirectory ? stepRolloutFile(input.source, input.step) : input.source;
  const deadline = Date.now() + input.waitTimeoutSeconds * 1000;
  for (;;) {
    try {
      await access(file);
      break;
    } catch {
      if (!input.fromDirectory || Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(`rollout file ${file} not found`, 'RolloutsMissing');
      }
      ctx.heartbeat({ waitingFor: file });
      await ctx.sleep(POLL_MS);
    }
  }
  ctx.heartbeat({ preparing: file });
  return prepareBatch({
    source: file,
    layout: RunLayout.of(input.outputDir, input.runId),
    step: input.step,
    chunkSize: input.chunkSize,
    groupForPreference: input.groupForPreference,
  });
}
