import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

/** Follows a workflow's continue-as-new chain from its first run; returns each run's history length. */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<number[]> {
  const lengths: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    lengths.push(events.length);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return lengths;
}
