import { patched } from '@temporalio/workflow';
import type { RunConfig } from '../src/config/run-config';
import { PATCHES } from './patches';
import type { StepSource } from './step-inbox';

/**
 * Whether the run's steps are scored at once: prepared, judged and checkpointed by one local
 * activity inside the workflow task that takes them, instead of three task-queue activities
 * and their workflow tasks (~300 ms a step on a small machine, docs/performance.md).
 *
 * Only for a judge that answers at once (the offline heuristic: no network, no quota), so a
 * workflow task is never held for long, and only for steps numbered from trainer requests
 * (`arbiter serve`), which are small. A trainer's request is then answered in the Update that
 * sent it: nothing to ask for afterwards, nothing judged ahead.
 */
export function scoresAtOnce(config: RunConfig): boolean {
  return config.rollouts.type === 'updates' && config.judge.provider === 'offline-heuristic' && patched(PATCHES.scoreInstantStepsAtOnce.id);
}

/**
 * Whether this step is one to score at once: numbered from trainer requests (explicit steps keep
 * their course, judged ahead), and small enough that its rewards are answered inline.
 */
export function scoredAtOnce(config: RunConfig, source: StepSource): source is Extract<StepSource, { assembleFrom: string[] }> {
  return 'assembleFrom' in source && source.inline && scoresAtOnce(config);
}
