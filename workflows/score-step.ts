import { patched } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../src/config/run-config';
import { chunkingOf, chunksInFlightOf } from '../src/config/shared-quota';
import type { BriefReward } from '../src/contract/reward-record';
import { stepReadyName } from '../src/contract/step-file-names';
import type { ReviewItemRef } from '../src/review/review-item';
import type { ChunkResult } from '../src/steps/judge-chunk';
import type { StepSummary } from '../src/contract/step-summary';
import type { BatchInfo } from '../src/steps/prepare-batch';
import { runActivities } from './activity-policies';
import { scoredAtOnce } from './score-at-once';
import { MAX_REQUEST_ROLLOUTS } from '../src/contract/trainer-requests';
import { boundedAll } from '../src/util/bounded-all';
import { currentExecution } from './execution';
import { PATCHES } from './patches';
import { quarantineGuard } from './run-guards';
import { activityFailureType } from './step-failure';

export interface StepOutcome {
  summary: StepSummary;
  file: string;
  rewards: BriefReward[] | undefined;
  reviewItems: ReviewItemRef[];
  /** Where the items' texts are; absent in checkpoint results recorded before they went by reference. */
  reviewFile: string | undefined;
}

/** The run's closing activity: a manifest line saying how it ended. */
export function finalizeRun(config: RunConfig, input: Parameters<typeof activities.finalizeRun>[0]): Promise<void> {
  return runActivities(config).finalizeRun(input);
}

export function stageRollouts(config: RunConfig, input: Parameters<typeof activities.stageRollouts>[0]): Promise<string> {
  return runActivities(config).stageRollouts(input);
}

/** A step that must not be scored as it is: the run pauses with this reason. */
export interface RefusedStep {
  refused: string;
}

/** A step's rollouts validated, chunked and judged: what its checkpoint needs. */
export interface JudgedStep {
  batch: BatchInfo;
  /** The review sample's seed, drawn when the batch was prepared. */
  reviewSeed: number;
}

/**
 * What a step tells the run as it goes, for the progress query and current details. Called as
 * its activities resolve, so it adds nothing to history.
 */
export interface StepWatch {
  /** The step waits for this file (directory source). */
  waiting(file: string): void;
  /** The rollouts are there: from now on the step has work to finish. */
  preparing(): void;
  /** A round of judging starts (a second round judges only what the first lost). */
  judging(chunks: number, rollouts: number): void;
  chunkDone(result: ChunkResult): void;
  checkpointing(): void;
}

/**
 * One training step: validate and chunk the rollouts, judge the chunks (a bounded number in
 * flight), then checkpoint the rewards. Only references and summaries pass through history.
 * `judged` is the step's judging when it already began ahead of the run loop (judge-ahead.ts,
 * which passes on what it told its watch).
 */
export async function scoreStep(
  config: RunConfig,
  runId: string,
  step: number,
  source: StepSource,
  watch: StepWatch,
  judged?: Promise<JudgedStep | RefusedStep>,
): Promise<StepOutcome | RefusedStep> {
  // A step judged ahead was not scored at once (nothing is judged ahead when steps are).
  if (judged === undefined && scoredAtOnce(config, source)) return scoreAtOnce(config, runId, step, source, watch);
  const outcome = await (judged ?? judgeStep(config, runId, step, source, watch));
  if ('refused' in outcome) return outcome;
  const { batch, reviewSeed } = outcome;
  return checkpointJudged(config, runId, step, batch, watch, {
    returnRewards: source.inline,
    review: reviewPolicy(config, step, reviewSeed),
    input: { file: batch.source, keep: keepsInput(config) },
  });
}

/** Which of the step's rewards go to people: a sample every `everySteps` steps, and the low-confidence ones. */
function reviewPolicy(config: RunConfig, step: number, seed: number): Parameters<typeof activities.checkpointStep>[0]['review'] {
  const review = config.review;
  const periodic = review.everySteps > 0 && (step - config.firstStep + 1) % review.everySteps === 0;
  return { samples: periodic ? review.samples : 0, lowConfidenceMargin: review.lowConfidenceMargin, maxFlagged: review.maxFlaggedPerStep, seed };
}

/** Whether a step's staged input is kept once checkpointed: for a re-judge (rejudgeRun), unless the run says otherwise. */
function keepsInput(config: RunConfig): boolean {
  return config.rollouts.type !== 'updates' || config.rollouts.keepInput !== false;
}

/**
 * Checkpoints a judged step. A checkpoint that finds chunk results missing (two overlapping
 * attempts and a crash) runs the chunks again, which judge only what was lost, twice at most.
 */
export async function checkpointJudged(
  config: RunConfig,
  runId: string,
  step: number,
  batch: BatchInfo,
  watch: StepWatch,
  options: Pick<Parameters<typeof activities.checkpointStep>[0], 'returnRewards' | 'review' | 'input'>,
  cacheOutputDir?: string,
): Promise<StepOutcome> {
  const checkpoint = () =>
    runActivities(config).checkpointStep({
      ...whereOf(config, runId, step),
      chunkCount: batch.chunkCount,
      batch: batch.key,
      quarantined: batch.quarantined,
      price: judgePrice(config),
      ...options,
    });

  for (let round = 1; ; round++) {
    if (round > 1) {
      watch.judging(batch.chunkCount, batch.valid);
      await scoreAllChunks(config, runId, step, batch, watch, cacheOutputDir);
    }
    watch.checkpointing();
    try {
      const done = await checkpoint();
      return { summary: done.entry.summary, file: done.file, rewards: done.rewards, reviewItems: done.reviewItems, reviewFile: done.reviewFile };
    } catch (err) {
      // Chunks resume from their partial files: running them again judges only what was lost.
      if (round < 3 && activityFailureType(err) === 'ChunkResultsIncomplete') continue;
      throw err;
    }
  }
}

/**
 * Where a step's rollouts are: a trainer's file, one staged from an inline submission, or
 * trainer requests, which the step's prepare activity assembles into the run's inbox first
 * (`assembleFrom`, their ledger ids; runs recorded before assembled them in an activity of its own).
 */
export type StepSource =
  | { file: string; inline: boolean; requests?: string[] }
  | { assembleFrom: string[]; inline: boolean; requests: string[] };

/** The first part of a step, up to its checkpoint: its rollouts validated and chunked, every chunk judged. */
export async function judgeStep(
  config: RunConfig,
  runId: string,
  step: number,
  source: StepSource,
  watch: StepWatch,
): Promise<JudgedStep | RefusedStep> {
  const { awaitRollouts, prepareStep } = runActivities(config);
  let rollouts: { file: string } | { assembleFrom: string[] };
  if ('assembleFrom' in source) rollouts = { assembleFrom: source.assembleFrom };
  else if (config.rollouts.type !== 'directory') rollouts = { file: source.file };
  else {
    watch.waiting(`${source.file.replace(/\/+$/, '')}/${stepReadyName(step)}`);
    rollouts = { file: await awaitRollouts({ directory: source.file, step, waitTimeoutSeconds: config.rollouts.waitTimeoutSeconds }) };
  }
  watch.preparing();
  const batch = await prepareStep(prepareInput(config, runId, step, rollouts));
  const refused = quarantineGuard(config, runId, batch);
  // Histories recorded before this guard scored such steps; they must replay as they ran.
  if (refused && patched(PATCHES.quarantineGuard.id)) return { refused };

  // The workflow's deterministic random: the same review sample on every replay.
  const reviewSeed = Math.floor(Math.random() * 2 ** 31);
  watch.judging(batch.chunkCount, batch.valid);
  await scoreAllChunks(config, runId, step, batch, watch);
  return { batch, reviewSeed };
}

/** What preparing the step needs: where its rollouts are, how it is cut and what scores it. */
function prepareInput(config: RunConfig, runId: string, step: number, rollouts: { file: string } | { assembleFrom: string[] }) {
  return {
    ...whereOf(config, runId, step),
    ...rollouts,
    ...chunkingOf(config),
    groupForPreference: config.judge.mode === 'preference',
    scoring: { judge: config.judge, rewards: config.rewards, fallback: config.fallback },
    ...(config.canary && { canary: { file: config.canary.file, perStep: config.canary.perStep } }),
  };
}

/**
 * A step of requests scored at once (score-at-once.ts): one local activity prepares it, judges
 * it in one chunk (judging takes no time, a chunk costs a pass over files) and checkpoints it,
 * in the workflow task that took the step; its watch hears each part once it is done.
 */
async function scoreAtOnce(
  config: RunConfig,
  runId: string,
  step: number,
  source: Extract<StepSource, { assembleFrom: string[] }>,
  watch: StepWatch,
): Promise<StepOutcome | RefusedStep> {
  // The workflow's deterministic random: the same review sample on every replay.
  const reviewSeed = Math.floor(Math.random() * 2 ** 31);
  const where = whereOf(config, runId, step);
  watch.preparing();
  const { batch, chunks, checkpoint } = await runActivities(config).scoreStepAtOnce({
    prepare: { ...prepareInput(config, runId, step, { assembleFrom: source.assembleFrom }), chunkSize: Math.max(config.chunkSize, MAX_REQUEST_ROLLOUTS) },
    chunks: { ...where, judge: config.judge, rewards: config.rewards, fallback: config.fallback, cache: config.cache },
    checkpoint: { ...where, price: judgePrice(config), returnRewards: source.inline, review: reviewPolicy(config, step, reviewSeed), keepInput: keepsInput(config) },
    maxQuarantineShare: config.quarantine.maxShare,
  });
  // Not judged: more of it quarantined than the run allows (the activity reads the same share).
  if (!checkpoint) return { refused: quarantineGuard(config, runId, batch) ?? `step ${step}: not checkpointed` };
  watch.judging(batch.chunkCount, batch.valid);
  for (const chunk of chunks) watch.chunkDone(chunk);
  watch.checkpointing();
  return { summary: checkpoint.entry.summary, file: checkpoint.file, rewards: checkpoint.rewards, reviewItems: checkpoint.reviewItems, reviewFile: checkpoint.reviewFile };
}

/** What the judge's tokens cost, for the step's summary: none for the offline judge. */
function judgePrice(config: RunConfig) {
  return config.judge.provider === 'offline-heuristic' ? undefined : config.prices[config.judge.model];
}

/** Judges every chunk of a prepared step, `maxChunksInFlight` at once (on a shared queue, at least 32); `cacheOutputDir` names another folder's judge cache (a version uses its run's). */
export function scoreAllChunks(config: RunConfig, runId: string, step: number, batch: BatchInfo, watch: StepWatch, cacheOutputDir?: string) {
  const where = whereOf(config, runId, step);
  return boundedAll(batch.chunkCount, chunksInFlightOf(config), (chunk) =>
    runActivities(config)
      .scoreChunk({
        ...where,
        chunk,
        batch: batch.key,
        judge: config.judge,
        rewards: config.rewards,
        fallback: config.fallback,
        cache: config.cache,
        ...(cacheOutputDir !== undefined && { cacheOutputDir }),
      })
      .then((result) => {
        watch.chunkDone(result);
        return result;
      }),
  );
}

function whereOf(config: RunConfig, runId: string, step: number) {
  return { outputDir: config.outputDir, runId, step, execution: currentExecution() };
}
