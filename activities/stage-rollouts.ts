import type { Rollout } from '../src/config/rollout';
import type { Execution } from '../src/contract/run-owner';
import { storeFor } from '../src/storage/stores';
import { ownedRunDir } from './owned-run-dir';

export interface StageRolloutsInput {
  outputDir: string;
  runId: string;
  step: number;
  rollouts: Rollout[];
  execution?: Execution;
  /** The update's own name for its file (its update id): two submissions never write one file. */
  tag?: string;
}

/** Writes rollouts a trainer sent inline to a file, so the step reads them like any other. */
export async function stageRollouts(input: StageRolloutsInput): Promise<string> {
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  const path = input.tag === undefined ? layout.inbox(input.step) : layout.inboxOf(input.step, input.tag.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80));
  await storeFor(path).write(path, input.rollouts.map((r) => JSON.stringify(r) + '\n').join(''));
  return path;
}
