import { access } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { RunConfig } from '../src/config/run-config';
import { RunLayout, stepRolloutFile } from '../src/run-layout';
import { prepareBatch, type BatchInfo } from '../src/steps/prepare-batch';

export interface PrepareStepInput {
  outputDir: string;
  runId: string;
  step: number;
  source: RunConfig['rollouts'];
  chunkSize: number;
}

const POLL_MS = 1000;

/**
 * Waits for the trainer's rollout file of the step (heartbeating, so a long wait is visible
 * and a dead worker is noticed), then validates and chunks it.
 */
export async function prepareStep(input: PrepareStepInput): Promise<BatchInfo> {
  const ctx = Context.current();
  const file = stepRolloutFile(input.source.path, input.step);
  for (;;) {
    try {
      await access(file);
      break;
    } catch {
      ctx.heartbeat({ waitingFor: file });
      await ctx.sleep(POLL_MS);
    }
  }
  return prepareBatch({
    source: file,
    layout: RunLayout.of(input.outputDir, input.runId),
    step: input.step,
    chunkSize: input.chunkSize,
  });
}
