import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../workflows/definitions';
import type { RunProgress } from '../../workflows/progress';
import type { RunResult } from '../../workflows/rft-run';
import { CliError } from './errors';
import { isUnreachable, rootMessage } from '../temporal/client-errors';
import type { Temporal } from './connect';

/** The run answered its `progress` query. */
export interface LiveRun {
  progress: RunProgress;
}

/** The run's workflow is closed and no worker replayed it for a query: its outcome instead. */
export interface ClosedRun {
  /** Temporal's execution status: COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT. */
  closed: string;
  result: RunResult | undefined;
  failure: string | undefined;
}

/** A running workflow no worker answered for: the worker is down or busy. Worth waiting for. */
export class NoAnswerError extends CliError {
  override name = 'NoAnswerError';
}

/**
 * Reads a run's state. Queries need a worker to replay the workflow, so a closed run whose
 * workers are gone falls back to the execution's own outcome, and a running one whose
 * workers are gone says so (naming the task queue) rather than hanging.
 */
export async function readRun(t: Temporal, workflowId: string, timeoutMs = 10_000): Promise<LiveRun | ClosedRun> {
  const handle = t.client.workflow.getHandle(workflowId);
  let description;
  try {
    // The client retries an unavailable server for a long time; a watcher wants to know sooner.
    description = await t.connection.withDeadline(Date.now() + timeoutMs, () => handle.describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run ${workflowId}`);
    throw err;
  }
  const status = description.status.name;
  // A closed run is only worth a short wait: its workers are often gone with it.
  const deadline = Date.now() + (status === 'RUNNING' ? timeoutMs : Math.min(timeoutMs, CLOSED_QUERY_MS));
  try {
    return { progress: await t.connection.withDeadline(deadline, () => handle.query(progressQuery)) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run ${workflowId}`);
    if (status === 'RUNNING') {
      throw new NoAnswerError(
        `run ${workflowId} is running but did not answer its progress query (${rootMessage(err)}); ` +
          `is a healthy worker polling task queue "${description.taskQueue}"?`,
      );
    }
    return closedOutcome(handle, status);
  }
}

const CLOSED_QUERY_MS = 3_000;

async function closedOutcome(handle: WorkflowHandle, status: string): Promise<ClosedRun> {
  try {
    return { closed: status, result: (await handle.result()) as RunResult, failure: undefined };
  } catch (err) {
    if (isUnreachable(err)) throw err;
    return { closed: status, result: undefined, failure: rootMessage(err) };
  }
}
