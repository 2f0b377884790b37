import { Context } from '@temporalio/activity';
import type { JudgeConfig } from '../src/config/run-config';
import { createJudge } from '../src/judges/create-judge';
import { RunLayout } from '../src/run-layout';
import { scoreChunk as score, type ChunkResult } from '../src/steps/score-chunk';

export interface ScoreChunkInput {
  outputDir: string;
  runId: string;
  step: number;
  chunk: number;
  judge: JudgeConfig;
  concurrency: number;
}

/** Judges one chunk of a step, heartbeating how far it got. */
export async function scoreChunk(input: ScoreChunkInput): Promise<ChunkResult> {
  const ctx = Context.current();
  return score({
    layout: RunLayout.of(input.outputDir, input.runId),
    step: input.step,
    chunk: input.chunk,
    judge: createJudge(input.judge),
    concurrency: input.concurrency,
    signal: ctx.cancellationSignal,
    onProgress: (done, total) => ctx.heartbeat({ done, total }),
  });
}
