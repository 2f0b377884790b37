import { storeFor } from '../storage/stores';
import type { RunLayout } from './run-layout';

/**
 * One execution of a run: its workflow id and the run id of its first execution, which stays
 * the same across continue-as-new and activity retries and is new when a workflow id is reused.
 */
export interface Execution {
  workflowId: string;
  firstRunId: string;
}

interface OwnerFile extends Execution {
  claimedAt: string;
}

/** The run folder was claimed by another execution: writing into it would mix two runs' rewards. */
export class RunDirTaken extends Error {
  override name = 'RunDirTaken';
}

export function sameExecution(a: Execution | undefined, b: Execution | undefined): boolean {
  return a !== undefined && b !== undefined && a.workflowId === b.workflowId && a.firstRunId === b.firstRunId;
}

export function describeExecution(e: Execution): string {
  return `run ${e.workflowId} (first run id ${e.firstRunId})`;
}

/**
 * Claims the run folder for `execution`, or checks that it already has it. The owner file
 * appears whole or not at all and is created only where there is none (`Store.create`: a hard
 * link on a filesystem, `If-None-Match: *` on S3), so two executions racing for one folder cannot
 * both win.
 */
export async function claimRunDir(layout: RunLayout, execution: Execution, now = new Date()): Promise<void> {
  // Every activity of a run calls this: once the folder is claimed, a read is all it costs.
  const store = storeFor(layout.owner);
  const existing = await store.readText(layout.owner);
  if (existing !== undefined) return checkHolder(layout, parseOwner(layout.owner, existing), execution);
  const owner: OwnerFile = { ...execution, claimedAt: now.toISOString() };
  if (await store.create(layout.owner, JSON.stringify(owner) + '\n')) return;
  checkHolder(layout, parseOwner(layout.owner, (await store.readText(layout.owner)) ?? ''), execution);
}

function checkHolder(layout: RunLayout, holder: OwnerFile, execution: Execution): void {
  if (sameExecution(holder, execution)) return;
  throw new RunDirTaken(
    `${layout.runDir} belongs to run ${holder.workflowId} started ${holder.claimedAt} (first run id ${holder.firstRunId}), ` +
      `not to this ${describeExecution(execution)}: give this run another id (arbiter run start --id / runId) or move that folder away`,
  );
}

function parseOwner(path: string, text: string): OwnerFile {
  try {
    const owner = JSON.parse(text) as Partial<OwnerFile>;
    if (typeof owner.workflowId === 'string' && typeof owner.firstRunId === 'string') {
      return { workflowId: owner.workflowId, firstRunId: owner.firstRunId, claimedAt: String(owner.claimedAt) };
    }
  } catch {
    // reported below
  }
  throw new RunDirTaken(`${path}: not an owner file (expected {"workflowId", "firstRunId", "claimedAt"}); move that run folder away or repair the file`);
}
