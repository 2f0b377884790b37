import type { Execution } from '../src/contract/run-owner';
import { appendRunEnd } from '../src/contract/manifest';
import { ownedRunDir } from './owned-run-dir';

export interface FinalizeRunInput {
  outputDir: string;
  runId: string;
  status: 'completed' | 'cancelled';
  reason: string | undefined;
  stepsDone: number;
  totals: Record<string, number>;
  execution?: Execution;
}

/** Writes the manifest's closing line, so a reader knows the run ended and how. */
export async function finalizeRun(input: FinalizeRunInput): Promise<void> {
  await appendRunEnd(await ownedRunDir(input.outputDir, input.runId, input.execution), {
    status: input.status,
    reason: input.reason,
    stepsDone: input.stepsDone,
    totals: input.totals,
  });
}
