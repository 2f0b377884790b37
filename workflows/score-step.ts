import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../src/config/run-config';
import type { ReviewItem } from '../src/review/review-item';
import type { StepSummary } from '../src/steps/step-summary';
import { boundedAll } from './bounded-all';

export interface StepOutcome {
  summary: StepSummary;
  file: string;
  rewards: { id: string; reward: number | null; status: string; flags: string[] }[] | undefined;
  reviewItems: ReviewItem[];
}

const quick = proxyActivities<typeof activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError'] },
});

export const { stageRollouts, finalizeRun } = quick;

/** Activities whose timeouts and retries the run config sets. */
function configured(config: RunConfig, extraStartToCloseSeconds = 0) {
  const s = config.scoring;
  return proxyActivities<typeof activities>({
    startToCloseTimeout: (s.startToCloseSeconds + extraStartToCloseSeconds) * 1000,
    heartbeatTimeout: s.heartbeatSeconds * 1000,
    retry: {
      initialInterval: s.initialIntervalSeconds * 1000,
      backoffCoefficient: s.backoffCoefficient,
      maximumInterval: s.maximumIntervalSeconds * 1000,
      maximumAttempts: s.maximumAttempts,
      // A bad config or an auth failure will not fix itself by trying again.
      nonRetryableErrorTypes: ['ConfigError', 'JudgeAuthError'],
    },
  });
}

/**
 * One training step: validate and chunk the rollouts, judge the chunks (a bounded number in
 * flight), then checkpoint the rewards. Only references and summaries pass through history.
 */
export async function scoreStep(
  config: RunConfig,
  runId: string,
  step: number,
  source: { file: string; inline: boolean },
  onScoring: () => void,
): Promise<StepOutcome> {
  const where = { outputDir: config.outputDir, runId, step };
  const { prepareStep, scoreChunk, checkpointStep } = configured(config);
  const file =
    config.rollouts.type === 'directory'
      ? await configured(config, config.rollouts.waitTimeoutSeconds).awaitRollouts({
          directory: source.file,
          step,
          waitTimeoutSeconds: config.rollouts.waitTimeoutSeconds,
        })
      : source.file;
  onScoring();
  const batch = await prepareStep({
    ...where,
    file,
    chunkSize: config.chunkSize,
    maxChunks: config.maxChunksPerStep,
    groupForPreference: config.judge.mode === 'preference',
  });

  const review = config.review;
  const periodic = review.everySteps > 0 && (step - config.firstStep + 1) % review.everySteps === 0;
  // The workflow's deterministic random: the same review sample on every replay.
  const reviewSeed = Math.floor(Math.random() * 2 ** 31);
  const scoreAllChunks = () =>
    boundedAll(batch.chunkCount, config.maxChunksInFlight, (chunk) =>
      scoreChunk({
        ...where,
        chunk,
        judge: config.judge,
        rewards: config.rewards,
        fallback: config.fallback,
        cache: config.cache,
      }),
    );
  const checkpoint = () =>
    checkpointStep({
      ...where,
      chunkCount: batch.chunkCount,
      quarantined: batch.quarantined,
      price: config.judge.provider === 'offline-heuristic' ? undefined : config.prices[config.judge.model],
      returnRewards: source.inline,
      review: {
        samples: periodic ? review.samples : 0,
        lowConfidenceMargin: review.lowConfidenceMargin,
        maxFlagged: review.maxFlaggedPerStep,
        seed: reviewSeed,
      },
      workflowId: workflowInfo().workflowId,
    });

  for (let round = 1; ; round++) {
    await scoreAllChunks();
    try {
      const done = await checkpoint();
      return { summary: done.entry.summary, file: done.file, rewards: done.rewards, reviewItems: done.reviewItems };
    } catch (err) {
      // Chunks resume from their partial files: running them again judges only what was lost.
      if (round < 3 && failureType(err) === 'ChunkResultsIncomplete') continue;
      throw err;
    }
  }
}

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type ?? undefined : undefined;
}
