import { recordPlacement, writeStepInbox } from '../src/contract/request-ledger';
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

/** Writes the step's rollout file from the requests the run placed in it, and records where each went. */
export async function assembleStep(input: AssembleStepInput): Promise<string> {
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  const file = await writeStepInbox(layout, input.keyIds, input.step);
  await recordPlacement(layout, input.keyIds, input.step);
  return file;
}
