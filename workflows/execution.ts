import { workflowInfo } from '@temporalio/workflow';
import type { Execution } from '../src/contract/run-owner';

/** This run's execution, as activities writing into its folder must name it (run-owner.ts). */
export function currentExecution(): Execution {
  const info = workflowInfo();
  return { workflowId: info.workflowId, firstRunId: info.firstExecutionRunId };
}
