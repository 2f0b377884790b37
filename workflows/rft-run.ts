import {
  ApplicationFailure,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import { RunConfigSchema, type RunConfig, type RunConfigInput } from '../src/config/run-config';
import { describeZodIssues } from '../src/config/validation-error';
import type { StepSummary } from '../src/steps/step-summary';
import { boundedAll } from './bounded-all';
import { progressMarkdown, progressQuery, type RunProgress } from './progress';
import { ArbiterRewardMean, ArbiterStatus, ArbiterStep } from './search-attributes';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 10,
  nonRetryableErrorTypes: ['ConfigError'],
};

const { prepareStep } = proxyActivities<typeof activities>({
  // Waiting for the trainer's file can take long; the heartbeat says the worker is alive.
  startToCloseTimeout: '24h',
  heartbeatTimeout: '30s',
  retry,
});
const { scoreChunk } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry,
});
const { checkpointStep } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10m',
  retry,
});

/** Judge calls in flight inside one chunk activity. */
const JUDGE_CONCURRENCY = 8;
const RECENT_STEPS = 10;

export interface RunResult {
  runId: string;
  stepsDone: number;
  lastStep: StepSummary | undefined;
}

/** One reinforcement fine-tuning run: score every step's rollouts, checkpoint each step. */
export async function rftRun(input: RunConfigInput): Promise<RunResult> {
  const config = validate(input);
  const runId = config.runId ?? workflowInfo().workflowId;
  const progress: RunProgress = {
    runId,
    status: 'running',
    totalSteps: config.steps,
    stepsDone: 0,
    currentStep: undefined,
    lastStep: undefined,
    recent: [],
  };
  setHandler(progressQuery, () => progress);

  for (let step = config.firstStep; step < config.firstStep + config.steps; step++) {
    progress.currentStep = step;
    const summary = await scoreStep(config, runId, step);
    progress.stepsDone++;
    progress.lastStep = summary;
    progress.recent = [...progress.recent, summary].slice(-RECENT_STEPS);
    report(progress);
  }

  progress.currentStep = undefined;
  progress.status = 'completed';
  report(progress);
  return { runId, stepsDone: progress.stepsDone, lastStep: progress.lastStep };
}

/** Rollouts in, judged chunk by chunk, checkpointed: the step is done when its artifact is. */
async function scoreStep(config: RunConfig, runId: string, step: number): Promise<StepSummary> {
  const where = { outputDir: config.outputDir, runId, step };
  const batch = await prepareStep({ ...where, source: config.rollouts, chunkSize: config.chunkSize });
  await boundedAll(batch.chunkCount, config.maxChunksInFlight, (chunk) =>
    scoreChunk({ ...where, chunk, judge: config.judge, concurrency: JUDGE_CONCURRENCY }),
  );
  const checkpoint = await checkpointStep({ ...where, chunkCount: batch.chunkCount, quarantined: batch.quarantined });
  log.info('step checkpointed', { step, file: checkpoint.file, rewardMean: checkpoint.summary.reward.mean });
  return checkpoint.summary;
}

function report(progress: RunProgress): void {
  upsertSearchAttributes([
    { key: ArbiterStatus, value: progress.status },
    { key: ArbiterStep, value: progress.lastStep?.step ?? 0 },
    { key: ArbiterRewardMean, value: progress.lastStep?.reward.mean ?? 0 },
  ]);
  setCurrentDetails(progressMarkdown(progress));
}

function validate(input: unknown): RunConfig {
  const parsed = RunConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = describeZodIssues(parsed.error);
    throw ApplicationFailure.nonRetryable(`invalid run config:\n  ${issues.join('\n  ')}`, 'ConfigError', { issues });
  }
  return parsed.data;
}
