import { RunLayout } from '../src/run-layout';
import { appendRunEnd } from '../src/steps/checkpoint';

export interface FinalizeRunInput {
  outputDir: string;
  runId: string;
  status: 'completed' | 'cancelled';
  reason: string | undefined;
  stepsDone: number;
  totals: Record<string, number>;
}

/** Writes the manifest's closing line, so a reader knows the run ended and how. */
export async function finalizeRun(input: FinalizeRunInput): Promise<void> {
  await appendRunEnd(RunLayout.of(input.outputDir, input.runId), {
    status: input.status,
    reason: input.reason,
    stepsDone: input.stepsDone,
    totals: input.totals,
  });
}
