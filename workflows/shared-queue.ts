import type { RunConfig } from '../src/config/run-config';
import { sharedPaceOf } from '../src/config/shared-quota';
import { runActivities } from './activity-policies';

/**
 * A run that shares its judge account (judge.sharedQuota) sets the account queue's rate before
 * its first chunk: Temporal then paces every worker process's chunks on that queue together.
 * Each execution sets it again (a continue-as-new, a re-judge), to the same value, and a run
 * reconfigured onto another account or quota sets it before its next step. Returns what it
 * paced (`paced`, unchanged: nothing to do).
 */
export async function paceSharedQueue(config: RunConfig, paced?: string): Promise<string | undefined> {
  const account = sharedPaceOf(config.judge);
  if (!account) return undefined;
  const { shared, requestsPerMinute, tasksPerSecond } = account;
  const pace = `${shared.taskQueue} ${tasksPerSecond}`;
  if (pace === paced) return paced;
  await runActivities(config).paceSharedQueue({
    taskQueue: shared.taskQueue,
    tasksPerSecond,
    reason: `arbiter: ${requestsPerMinute} judge requests/min in chunks of ${shared.callsPerTask}`,
  });
  return pace;
}
