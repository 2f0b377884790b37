import type { WorkflowHandle } from '@temporalio/client';

// temporal.api.enums.v1.WorkflowTaskFailedCause: what a worker reports when it cannot run the
// workflow's code at all (the TypeScript SDK, for a workflow type its bundle does not export).
export const WORKFLOW_WORKER_UNHANDLED_FAILURE = 14;

/** How a just-started workflow's first workflow task went. */
export type FirstTask =
  /** It completed (or the workflow closed, from within or outside): the workflow is not stuck there. */
  | { kind: 'done' }
  /** A worker failed it as one that cannot run the workflow: the server retries it forever. */
  | { kind: 'failed'; message: string }
  /** Neither completed nor failed so within the time given (no live worker took it, or none answered). */
  | { kind: 'not completed' };

const POLL_MS = 250;

/**
 * Watches a just-started workflow's history until its first workflow task completes. A worker on
 * the queue that does not have the workflow (an older one, another program's) fails that task,
 * the server schedules it again and again, and whoever waits for the result waits forever: the
 * WorkflowTaskFailed event, with the cause a worker gives when it cannot run the workflow at all,
 * says so at once. With `withinMs`, a first task still not completed after that long is reported
 * too; without it, only a failure ends the watch early.
 */
export async function firstWorkflowTask(handle: WorkflowHandle, withinMs?: number): Promise<FirstTask> {
  const deadline = withinMs === undefined ? Infinity : Date.now() + withinMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    // A closed workflow got past its first task, or was closed from outside: either way, not stuck there.
    if (events.some((e) => e.workflowTaskCompletedEventAttributes || isClosed(e))) return { kind: 'done' };
    const failed = events.find((e) => e.workflowTaskFailedEventAttributes?.cause === WORKFLOW_WORKER_UNHANDLED_FAILURE)?.workflowTaskFailedEventAttributes;
    if (failed) return { kind: 'failed', message: failed.failure?.message ?? 'no message' };
    if (Date.now() >= deadline) return { kind: 'not completed' };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function isClosed(e: HistoryEvent): boolean {
  return Boolean(
    e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes,
  );
}
