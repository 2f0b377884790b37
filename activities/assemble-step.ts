import { assembleStepFile } from '../src/contract/request-ledger';
import type { Execution } from '../src/contract/run-owner';
import { ownedRunDir } from './owned-run-dir';

export interface AssembleStepInput {
  outputDir: string;
  runId: string;
  execution: Execution;
  step: number;
  /** The requests the run placed in the step, in order. */
  keyIds: string[];
}

/**
 * Writes the step's rollout file from the requests the run placed in it (runs recorded before
 * `prepareStep` did this itself; kept for them).
 */
export async function assembleStep(input: AssembleStepInput): Promise<string> {
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  return assembleStepFile(layout, input.keyIds, input.step);
}
