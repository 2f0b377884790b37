import type { Rollout } from '../src/config/rollout';
import { writeFileAtomic } from '../src/io/atomic-write';
import { RunLayout } from '../src/run-layout';

export interface StageRolloutsInput {
  outputDir: string;
  runId: string;
  step: number;
  rollouts: Rollout[];
}

/** Writes rollouts a trainer sent inline to a file, so the step reads them like any other. */
export async function stageRollouts(input: StageRolloutsInput): Promise<string> {
  const path = RunLayout.of(input.outputDir, input.runId).inbox(input.step);
  await writeFileAtomic(path, input.rollouts.map((r) => JSON.stringify(r) + '\n').join(''));
  return path;
}
