import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FAILURES, isFailureType } from '../src/contract/failure-types';

/** The failure type behind an activity's failure (its ApplicationFailure's), if it has one. */
export function activityFailureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type ?? undefined : undefined;
}

/** What an activity's failure says: its cause's message, else its own. */
export function activityFailureMessage(err: unknown): string {
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * What went wrong, when `err` is an activity of the step that failed for good and the run can
 * wait for a fix; undefined for failures that end the run (a config or a folder that is not ours).
 */
export function stepFailure(err: unknown): { message: string; batchRefused: boolean } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const type = activityFailureType(err);
  const kind = isFailureType(type) ? FAILURES[type].run : undefined;
  if (kind === 'ends') return undefined;
  const why = activityFailureMessage(err);
  const readsTheBatch = err.activityType === 'awaitRollouts' || err.activityType === 'prepareStep';
  if (kind === 'refuses') return { message: why, batchRefused: readsTheBatch };
  const exhausted = err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? ' after all its attempts' : '';
  return { message: `${err.activityType} failed${exhausted}: ${why}`, batchRefused: false };
}

/** The message of a JudgeAuthError behind an activity failure, if that is what `err` is. */
export function judgeRefusal(err: unknown): string | undefined {
  return activityFailureType(err) === 'JudgeAuthError' ? activityFailureMessage(err) : undefined;
}
