import { Context } from '@temporalio/activity';
import { isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';

const { TaskQueueType } = proto.temporal.api.enums.v1;
/** gRPC's status for an API the server does not have. */
const UNIMPLEMENTED = 12;

export interface PaceSharedQueueInput {
  taskQueue: string;
  /** Chunk activities per second the account allows: its requests per second / calls per chunk. */
  tasksPerSecond: number;
  /** Said with the limit, for whoever reads the queue's config (`temporal task-queue config get`). */
  reason: string;
}

/**
 * Sets the shared judge queue's rate limit in Temporal's matching service (UpdateTaskQueueConfig):
 * from then on every worker process polling the queue, wherever it runs, receives chunks at
 * most at this rate in total. Setting the value it already has changes nothing, so each
 * execution of each run sets it again at its start. Returns how many pollers the queue had.
 */
export async function paceSharedQueue(input: PaceSharedQueueInput): Promise<{ tasksPerSecond: number; pollers: number }> {
  const ctx = Context.current();
  try {
    await ctx.client.workflowService.updateTaskQueueConfig({
      namespace: ctx.info.workflowNamespace,
      identity: `arbiter run ${ctx.info.workflowExecution?.workflowId ?? ''}`,
      taskQueue: input.taskQueue,
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      updateQueueRateLimit: { rateLimit: { requestsPerSecond: input.tasksPerSecond }, reason: input.reason },
    });
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === UNIMPLEMENTED) {
      throw ApplicationFailure.create({
        type: 'SharedQuotaUnsupported',
        nonRetryable: true,
        message:
          `judge.sharedQuota: this Temporal server cannot limit task queue ${JSON.stringify(input.taskQueue)}'s rate ` +
          '(UpdateTaskQueueConfig needs Server 1.28 or later): remove judge.sharedQuota or upgrade the server',
      });
    }
    throw err;
  }
  // Chunks on a queue nobody polls wait for ever, and the run shows only "judging": say where to look.
  const { pollers } = await ctx.client.workflowService.describeTaskQueue({
    namespace: ctx.info.workflowNamespace,
    taskQueue: { name: input.taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  if (!pollers?.length) {
    ctx.log.warn(
      `judge.sharedQuota: no worker polls task queue ${JSON.stringify(input.taskQueue)} yet; the run's chunks wait there ` +
        `until one does (start workers with ARBITER_JUDGE_TASK_QUEUES=${input.taskQueue})`,
    );
  }
  return { tasksPerSecond: input.tasksPerSecond, pollers: pollers?.length ?? 0 };
}
