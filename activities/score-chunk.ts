import { ApplicationFailure, Context } from '@temporalio/activity';
import type { RunConfig } from '../src/config/run-config';
import { buildJudge, judgeCacheDir } from '../src/judges/build-judge';
import type { Execution } from '../src/contract/run-owner';
import { JudgeAuthError } from '../src/judges/judge-auth-error';
import { judgeChunk, type ChunkResult } from '../src/steps/judge-chunk';
import { checkJudgeUrl, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { finalFailure, ownedRunDir } from './owned-run-dir';

export interface ScoreChunkInput {
  outputDir: string;
  runId: string;
  step: number;
  chunk: number;
  judge: RunConfig['judge'];
  rewards: RunConfig['rewards'];
  fallback: RunConfig['fallback'];
  cache: boolean;
  /** The batch key prepareStep returned. */
  batch?: string;
  execution?: Execution;
}

/** Heartbeats come at least this often, and three times per heartbeat timeout. */
const MAX_HEARTBEAT_INTERVAL_MS = 5000;

/** Judges one chunk of a step, heartbeating how far it got. */
export async function scoreChunk(input: ScoreChunkInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<ChunkResult> {
  // The worker's API key and the rollouts go to this URL: the worker, not the run config, says where they may go.
  if (input.judge.provider === 'openai-compatible' && input.judge.baseUrl !== undefined) {
    try {
      checkJudgeUrl(input.judge.baseUrl, settings.allowedJudgeUrls);
    } catch (err) {
      if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
      throw err;
    }
  }
  const ctx = Context.current();
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  let progress = { done: 0, total: 0 };
  // Heartbeat on a timer too: a slow judge call, or a wait for the shared quota, must not look
  // like a dead worker, whatever heartbeat timeout the run chose.
  const timeout = ctx.info.heartbeatTimeoutMs ?? MAX_HEARTBEAT_INTERVAL_MS * 3;
  const timer = setInterval(() => ctx.heartbeat(progress), Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, timeout / 3)));
  const judge = await buildJudge(input.judge, { cacheDir: input.cache ? judgeCacheDir(input.outputDir) : undefined });
  try {
    return await judgeChunk({
      layout,
      runId: input.runId,
      step: input.step,
      chunk: input.chunk,
      batch: input.batch,
      judge,
      rewards: input.rewards,
      fallback: input.fallback,
      signal: ctx.cancellationSignal,
      // The timer above sends it: a heartbeat per rollout cost more than the judging (bench:overhead).
      onProgress: (done, total) => {
        progress = { done, total };
      },
    });
  } catch (err) {
    if (err instanceof JudgeAuthError) throw ApplicationFailure.nonRetryable(err.message, 'JudgeAuthError');
    throw finalFailure(err);
  } finally {
    clearInterval(timer);
    await judge.close();
  }
}
