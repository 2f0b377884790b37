import { readFile } from 'node:fs/promises';
import { createFilesExclusive } from '../io/atomic-batch';
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
 * appears whole or not at all (written aside, fsynced, then hard-linked into place, which fails
 * if the name exists), so two executions racing for one folder cannot both win.
 */
export async function claimRunDir(layout: RunLayout, execution: Execution, now = new Date()): Promise<void> {
  // Every activity of a run calls this: once the folder is claimed, a read is all it costs.
  const existing = await readOwner(layout.owner).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) return checkHolder(layout, existing, execution);
  const owner: OwnerFile = { ...execution, claimedAt: now.toISOString() };
  const [created] = await createFilesExclusive([{ path: layout.owner, data: JSON.stringify(owner) + '\n' }]);
  if (created) return;
  checkHolder(layout, await readOwner(layout.owner), execution);
}

function checkHolder(layout: RunLayout, holder: OwnerFile, execution: Execution): void {
  if (sameExecution(holder, execution)) return;
  throw new RunDirTaken(
    `${layout.runDir} belongs to run ${holder.workflowId} started ${holder.claimedAt} (first run id ${holder.firstRunId}), ` +
      `not to this ${describeExecution(execution)}: give this run another id (arbiter run start --id / runId) or move that folder away`,
  );
}

async function readOwner(path: string): Promise<OwnerFile> {
  const text = await readFile(path, 'utf8');
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
