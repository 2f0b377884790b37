import type { RunConfig } from '../src/config/run-config';
import { sharedQuotaOf, sharedQueueTasksPerSecond } from '../src/config/shared-quota';
import { runActivities } from './activity-policies';

/**
 * A run that shares its judge account (judge.sharedQuota) sets the account queue's rate before
 * its first chunk: Temporal then paces every worker process's chunks on that queue together.
 * Each execution sets it again (a continue-as-new, a re-judge), to the same value.
 */
export async function paceSharedQueue(config: RunConfig): Promise<void> {
  const shared = sharedQuotaOf(config.judge);
  if (!shared || config.judge.provider === 'offline-heuristic') return;
  const rpm = config.judge.quota.requestsPerMinute;
  await runActivities(config).paceSharedQueue({
    taskQueue: shared.taskQueue,
    tasksPerSecond: sharedQueueTasksPerSecond(shared, rpm),
    reason: `arbiter: ${rpm} judge requests/min in chunks of ${shared.callsPerTask}`,
  });
}
