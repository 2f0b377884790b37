import { RunLayout } from '../src/run-layout';
import { checkpointStep as checkpoint, type ManifestLine } from '../src/steps/checkpoint';

export interface CheckpointStepInput {
  outputDir: string;
  runId: string;
  step: number;
  chunkCount: number;
  quarantined: number;
}

/** Writes the step's reward artifact and manifest line; the step is done only after this. */
export async function checkpointStep(input: CheckpointStepInput): Promise<ManifestLine> {
  return checkpoint({
    layout: RunLayout.of(input.outputDir, input.runId),
    step: input.step,
    chunkCount: input.chunkCount,
    quarantined: input.quarantined,
  });
}
