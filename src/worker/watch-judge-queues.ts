import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { setProcessesOn } from '../judges/queue-processes';

const { TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * A poller that asked within this long is alive: an idle worker's long poll returns and is
 * renewed about once a minute, so a process that died stops counting after two.
 */
const ALIVE_MS = 120_000;

/**
 * Counts, every `intervalMs`, the worker processes (distinct poller identities) that Temporal
 * says poll each shared judge queue, for this process's pace (src/judges/queue-processes.ts).
 * A failed look changes nothing; the next one tries again. Returns the stop.
 */
export function watchJudgeQueues(connection: NativeConnection, namespace: string, queues: string[], intervalMs = 5_000): () => void {
  let stopped = false;
  const look = async () => {
    for (const queue of queues) {
      try {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: queue },
          taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        const now = Date.now();
        const alive = new Set(
          (pollers ?? [])
            .filter((p) => now - timestampMs(p.lastAccessTime) <= ALIVE_MS)
            .map((p) => p.identity ?? ''),
        );
        if (!stopped) setProcessesOn(queue, Math.max(1, alive.size));
      } catch {
        // Temporal unreachable for a moment: keep the last count.
      }
    }
  };
  void look();
  const timer = setInterval(() => void look(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}
