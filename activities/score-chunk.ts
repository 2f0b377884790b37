import type { RunConfig } from '../src/config/run-config';
import { judgeCacheDir } from '../src/judges/build-judge';
import type { Execution } from '../src/contract/run-owner';
import { judgeChunk, type ChunkResult } from '../src/steps/judge-chunk';
import { inCallOrder } from '../src/call-policy/call-order';
import { workerSettingsFromEnv, type WorkerSettings } from '../src/config/worker-settings';
import { finalFailure, ownedRunDir } from './owned-run-dir';
import { refuseUnallowedJudgeUrl, withJudgeActivity } from './with-judge';

export interface ScoreChunkInput {
  outputDir: string;
  runId: string;
  step: number;
  chunk: number;
  judge: RunConfig['judge'];
  rewards: RunConfig['rewards'];
  fallback: RunConfig['fallback'];
  cache: boolean;
  /** Whose judge cache to use, when not outputDir's: a re-judged version uses its run's (outputDir/.judge-cache). */
  cacheOutputDir?: string;
  /** The batch key prepareStep returned. */
  batch?: string;
  execution?: Execution;
}

/** Judges one chunk of a step, heartbeating how far it got. */
export async function scoreChunk(input: ScoreChunkInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<ChunkResult> {
  refuseUnallowedJudgeUrl(input.judge, settings);
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  return withJudgeActivity(
    input.judge,
    { cacheDir: input.cache ? judgeCacheDir(input.cacheOutputDir ?? input.outputDir) : undefined },
    (judge, onProgress, signal) =>
      // A run answers its steps in order: its earlier step's calls go first (call-order.ts).
      inCallOrder({ group: `${input.outputDir}\0${input.runId}`, rank: input.step }, () => judgeChunk({
        layout,
        runId: input.runId,
        step: input.step,
        chunk: input.chunk,
        batch: input.batch,
        judge,
        rewards: input.rewards,
        fallback: input.fallback,
        signal,
        onProgress,
      })),
    finalFailure,
  );
}
