import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The events of one run of a workflow (default: its latest run). */
export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** Every run of a continue-as-new chain, first to last, with its events. */
export async function chainHistories(client: Client, workflowId: string, firstRunId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = await historyOf(client, workflowId, runId);
    runs.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** The history length of each run of a continue-as-new chain, first to last. */
export async function chainHistoryLengths(client: Client, workflowId: string, firstRunId: string): Promise<number[]> {
  return (await chainHistories(client, workflowId, firstRunId)).map((events) => events.length);
}
