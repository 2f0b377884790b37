import type { Rollout } from '../src/config/rollout';
import { writeFileAtomic } from '../src/io/atomic-write';
import type { Execution } from '../src/contract/run-owner';
import { ownedRunDir } from './owned-run-dir';

export interface StageRolloutsInput {
  outputDir: string;
  runId: string;
  step: number;
  rollouts: Rollout[];
  execution?: Execution;
}

/** Writes rollouts a trainer sent inline to a file, so the step reads them like any other. */
export async function stageRollouts(input: StageRolloutsInput): Promise<string> {
  const path = (await ownedRunDir(input.outputDir, input.runId, input.execution)).inbox(input.step);
  await writeFileAtomic(path, input.rollouts.map((r) => JSON.stringify(r) + '\n').join(''));
  return path;
}
