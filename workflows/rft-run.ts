import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  CancelRequestSchema,
  PauseRequestSchema,
  ReconfigureRequestSchema,
  ResumeRequestSchema,
  SubmitRolloutsRequestSchema,
} from '../src/config/controls';
import type { z } from 'zod';
import { isSafeRunId, RunConfigSchema, type RunConfig, type RunConfigInput } from '../src/config/run-config';
import { describeZodIssues } from '../src/config/validation-error';
import { mergeReconfigure } from '../src/config/merge-reconfigure';
import type { StepSummary } from '../src/steps/step-summary';
import { addReview, emptyAgreement } from './agreement';
import {
  cancelUpdate,
  configQuery,
  pauseUpdate,
  progressQuery,
  reconfigureUpdate,
  resumeUpdate,
  reviewOutcomeSignal,
  stepSummaryQuery,
  submitRolloutsUpdate,
  type ControlReply,
  type StepRewards,
} from './definitions';
import { currentExecution } from './execution';
import { humanReview } from './human-review';
import type { RunProgress } from './progress';
import { report } from './report';
import { BATCH_REFUSALS, NON_RETRYABLE_TYPES } from './activity-policies';
import { finalizeRun, scoreStep, stageRollouts, type StepOutcome } from './score-step';

const RECENT_STEPS = 20;
const MAX_INLINE_SUBMISSION_BYTES = 256 * 1024;

/** What a run hands to its next incarnation on continue-as-new: plain data only. */
export interface CarriedState {
  config: RunConfig;
  progress: RunProgress;
  nextStep: number;
  cancel: { mode: 'finish-step' | 'abandon-step'; reason?: string } | undefined;
}

export interface RunResult {
  runId: string;
  status: RunProgress['status'];
  stepsDone: number;
  lastStep: StepSummary | undefined;
  totals: RunProgress['totals'];
  agreement: RunProgress['agreement'];
}

/**
 * One reinforcement fine-tuning run. For each step: rollouts in, judged in chunks, rewards
 * checkpointed, a sample sent to human review, the fallback guard checked. Pausable,
 * reconfigurable and cancellable while it runs; continues as new before history grows large.
 */
export async function rftRun(input: RunConfigInput, carried?: CarriedState): Promise<RunResult> {
  let config = carried?.config ?? validate(input);
  const runId = config.runId ?? workflowInfo().workflowId;
  // Only runs that would write outside outputDir reach the patch: every other history is unchanged.
  if (!isSafeRunId(runId) && patched('refuse-unsafe-workflow-id')) {
    throw ApplicationFailure.nonRetryable(
      `workflow id ${JSON.stringify(runId)} is not a safe folder name for the run's artifacts ` +
        '(letters, digits, ".", "_" and "-", starting with a letter or digit): set runId in the run config',
      'ConfigError',
      { issues: [`runId: required when the workflow id ${JSON.stringify(runId)} is not a safe folder name`] },
    );
  }
  const progress = carried?.progress ?? startingProgress(runId, config);
  let nextStep = carried?.nextStep ?? config.firstStep;
  let cancel = carried?.cancel;
  const stepsAtStart = progress.stepsDone;
  let stepScope: CancellationScope | undefined;
  /** True while the step in progress still waits for its rollouts: nothing to finish yet. */
  let awaitingRollouts = false;
  const submissions = new Map<number, { file: string; inline: boolean }>();
  /** What each submitted step's update returns: its rewards, or why the step was not scored. */
  const results = new Map<number, StepRewards | { refused: string }>();
  /** Continue-as-new is due: submissions already accepted are scored first, new ones wait for the next execution. */
  let rollingOver = false;
  let ended = false;
  const lastStep = () => config.firstStep + config.steps - 1;

  // ---- what people and trainers can ask and send ----
  setHandler(progressQuery, () => progress);
  setHandler(configQuery, () => config);
  setHandler(stepSummaryQuery, (step) => progress.recent.find((s) => s.step === step) ?? null);

  setHandler(pauseUpdate, (request) => pause(PauseRequestSchema.parse(request).reason ?? 'paused by request'), {
    validator: (request) => {
      check(PauseRequestSchema, request);
      requireActive();
      if (progress.status === 'paused') throw new Error(`run is already paused: ${progress.reason}`);
    },
  });

  setHandler(
    resumeUpdate,
    (request) => {
      const { judge, note } = ResumeRequestSchema.parse(request);
      if (judge) config = withJudge(config, judge);
      progress.status = 'running';
      progress.reason = undefined;
      progress.judgeModel = judgeModel(config);
      report(progress);
      return reply(`resumed${judge ? ` with judge ${judgeModel(config)}` : ''}${note ? `: ${note}` : ''}`);
    },
    {
      validator: (request) => {
        const { judge } = check(ResumeRequestSchema, request);
        requireActive();
        if (progress.status !== 'paused') throw new Error('run is not paused');
        // The new judge must make a runnable config with the rest (a budget needs its price, ...).
        if (judge) withJudge(config, judge);
      },
    },
  );

  setHandler(
    cancelUpdate,
    (request) => {
      const { mode, reason } = CancelRequestSchema.parse(request);
      cancel = { mode, reason };
      if (mode === 'abandon-step' || awaitingRollouts) {
        stepScope?.cancel();
        return reply('cancelling now');
      }
      return reply('cancelling after the current step');
    },
    {
      validator: (request) => {
        check(CancelRequestSchema, request);
        requireActive();
        if (cancel) throw new Error('run is already being cancelled');
      },
    },
  );

  setHandler(
    reconfigureUpdate,
    (request) => {
      config = reconfigured(config, request);
      progress.judgeModel = judgeModel(config);
      report(progress);
      return reply(`reconfigured from step ${nextStep + (progress.currentStep === undefined ? 0 : 1)}`);
    },
    {
      validator: (request) => {
        requireActive();
        reconfigured(config, request);
      },
    },
  );

  setHandler(
    submitRolloutsUpdate,
    async (request) => {
      const { step, rollouts, path } = SubmitRolloutsRequestSchema.parse(request);
      const file = rollouts ? await stageRollouts(config, { outputDir: config.outputDir, runId, step, rollouts, execution: currentExecution() }) : path!;
      submissions.set(step, { file, inline: rollouts !== undefined });
      await condition(() => results.has(step) || ended);
      const result = results.get(step);
      results.delete(step);
      if (!result) throw ApplicationFailure.nonRetryable(`the run ended (${progress.status}) before step ${step} was scored`);
      if ('refused' in result) throw ApplicationFailure.nonRetryable(result.refused, 'StepRefused');
      return result;
    },
    {
      validator: (request) => {
        const { step, rollouts } = check(SubmitRolloutsRequestSchema, request);
        requireActive();
        if (config.rollouts.type !== 'updates') throw new Error('this run reads rollouts from a directory, not from updates');
        if (step < nextStep || step > lastStep()) throw new Error(`step ${step} is not ahead (next step is ${nextStep}, last ${lastStep()})`);
        if (submissions.has(step)) throw new Error(`step ${step} was already submitted`);
        if (rollingOver) {
          throw new Error(`the run is moving to a fresh history (continue-as-new) after step ${nextStep - 1}: send step ${step} again in a few seconds`);
        }
        if (rollouts && JSON.stringify(rollouts).length > MAX_INLINE_SUBMISSION_BYTES) {
          throw new Error(`inline rollouts over ${MAX_INLINE_SUBMISSION_BYTES} bytes: write them to a file and send its path`);
        }
      },
    },
  );

  setHandler(reviewOutcomeSignal, ({ judgePass, humanPass }) => {
    progress.agreement = addReview(progress.agreement, judgePass, humanPass);
    const floor = config.review.agreementFloor;
    const { accuracy, reviews } = progress.agreement;
    if (floor !== undefined && accuracy !== null && reviews >= config.review.minReviews && accuracy < floor && progress.status === 'running') {
      pause(`judge-human agreement ${(accuracy * 100).toFixed(1)}% fell below the floor ${(floor * 100).toFixed(1)}%`);
    }
    report(progress);
  });

  // ---- the run ----
  report(progress);
  try {
    while (nextStep <= lastStep() && !cancel) {
      await condition(() => progress.status !== 'paused' || cancel !== undefined);
      if (cancel) break;
      if (config.budgetUsd !== undefined && progress.totals.costUsd >= config.budgetUsd) {
        pause(`budget of $${config.budgetUsd} reached ($${progress.totals.costUsd.toFixed(4)} spent); raise budgetUsd with reconfigure, then resume`);
        continue;
      }

      const step = nextStep;
      const source = await rolloutsOf(step);
      if (!source) break; // cancelled while waiting for the trainer
      progress.currentStep = step;
      const stepStarted = Date.now();
      const outcome = await scoreInScope(step, source);
      progress.currentStep = undefined;
      if (outcome === 'abandoned') break;
      if (outcome === 'paused') continue; // the same step again after resume
      if ('refused' in outcome) {
        pause(outcome.refused);
        // A trainer that sent this batch hears why at once, and may send a corrected one.
        if (submissions.delete(step)) results.set(step, outcome);
        continue;
      }
      nextStep++;
      outcome.summary.durationMs = Date.now() - stepStarted;
      record(outcome.summary);
      if (submissions.has(step)) {
        results.set(step, { step, summary: outcome.summary, file: outcome.file, rewards: outcome.rewards });
        submissions.delete(step);
      }
      await sendToReview(step, outcome);
      guardFallbackRate(outcome.summary);
      report(progress);

      if (nextStep <= lastStep() && continueAsNewDue()) {
        if (patched('drain-submissions-before-continue-as-new')) {
          // An update's caller waits for its step's rewards: a submission accepted here is scored
          // here, and its handler returns, before the history starts afresh (the samples' pattern:
          // wait for handlers to finish). Meanwhile new submissions wait for the next execution.
          rollingOver = true;
          if (submissions.size > 0) continue;
          await condition(allHandlersFinished);
        } else if (!allHandlersFinished()) {
          continue;
        }
        log.info('continuing as new', { nextStep, historyLength: workflowInfo().historyLength });
        await continueAsNew<typeof rftRun>(input, { config, progress, nextStep, cancel });
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => finish('cancelled', 'workflow cancelled'));
    }
    throw err;
  }

  if (cancel) await finish('cancelled', cancel.reason ?? `cancelled (${cancel.mode})`);
  else await finish('completed', undefined);
  return {
    runId,
    status: progress.status,
    stepsDone: progress.stepsDone,
    lastStep: progress.lastStep,
    totals: progress.totals,
    agreement: progress.agreement,
  };

  // ---- the parts of a step ----

  async function rolloutsOf(step: number): Promise<{ file: string; inline: boolean } | undefined> {
    if (config.rollouts.type === 'directory') return { file: `${config.rollouts.path}`, inline: false };
    await condition(() => submissions.has(step) || cancel !== undefined);
    return submissions.get(step);
  }

  async function scoreInScope(
    step: number,
    source: { file: string; inline: boolean },
  ): Promise<StepOutcome | { refused: string } | 'abandoned' | 'paused'> {
    const scope = new CancellationScope();
    stepScope = scope;
    awaitingRollouts = true;
    try {
      return await scope.run(() => scoreStep(config, runId, step, source, () => (awaitingRollouts = false)));
    } catch (err) {
      if (isCancellation(err) && cancel) return 'abandoned';
      const refused = judgeRefusal(err);
      if (refused) {
        // Credentials do not fix themselves: stop paying for nothing, say why, wait for people.
        pause(`step ${step}: ${refused}; fix the judge's credentials (AWS default chain) or resume with another judge`);
        return 'paused';
      }
      const failed = isCancellation(err) ? undefined : stepFailure(err);
      if (failed && patched('step-failures-pause')) {
        scope.cancel(); // the step's other chunks: it is scored again after resume
        // A file the worker may not read, or that is not there: the batch itself must change.
        if (failed.batchRefused) return { refused: `step ${step}: ${failed.message}` };
        // An activity out of attempts (a full disk, a judge down for good): the run keeps every
        // step done so far and waits for someone to fix the cause and resume.
        pause(`step ${step}: ${failed.message}; fix the cause, then resume (the step is scored again, finished chunks are kept)`);
        return 'paused';
      }
      throw err;
    } finally {
      stepScope = undefined;
      awaitingRollouts = false;
    }
  }

  function record(summary: StepSummary): void {
    progress.stepsDone++;
    progress.lastStep = summary;
    progress.recent = [...progress.recent, summary].slice(-RECENT_STEPS);
    const t = progress.totals;
    t.rollouts += summary.count;
    t.fallbacks += summary.fallback + summary.excluded;
    t.inputTokens += summary.inputTokens;
    t.outputTokens += summary.outputTokens;
    t.costUsd = Math.round((t.costUsd + summary.costUsd) * 1e6) / 1e6;
  }

  async function sendToReview(step: number, outcome: StepOutcome): Promise<void> {
    if (outcome.reviewItems.length === 0) return;
    const workflowId = `${workflowInfo().workflowId}-review-${step}`;
    await startChild(humanReview, {
      workflowId,
      args: [
        {
          parentWorkflowId: workflowInfo().workflowId,
          runId,
          step,
          items: outcome.reviewItems,
          file: outcome.reviewFile,
          deadlineHours: config.review.deadlineHours,
        },
      ],
      // Training never waits for people: the review lives on if the run ends first.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `human review of ${runId} step ${step}: ${outcome.reviewItems.length} items`,
    });
    progress.openReviews = [...progress.openReviews, workflowId].slice(-20);
  }

  function guardFallbackRate(summary: StepSummary): void {
    const max = config.fallback.maxRate;
    if (summary.fallbackRate <= max || max >= 1) return;
    const reasons = Object.entries(summary.fallbackByReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    pause(
      `fallback rate ${(summary.fallbackRate * 100).toFixed(1)}% exceeded ${(max * 100).toFixed(1)}% at step ${summary.step} (${reasons}); ` +
        'training on fallback rewards ruins a run: fix the judge, then resume (optionally with a new judge)',
    );
  }

  function continueAsNewDue(): boolean {
    const stepsHere = progress.stepsDone - stepsAtStart;
    return workflowInfo().continueAsNewSuggested || stepsHere >= config.continueAsNewEverySteps;
  }

  async function finish(status: 'completed' | 'cancelled', reason: string | undefined): Promise<void> {
    ended = true;
    progress.status = status;
    progress.reason = reason;
    progress.currentStep = undefined;
    await finalizeRun(config, { outputDir: config.outputDir, runId, status, reason, stepsDone: progress.stepsDone, totals: progress.totals, execution: currentExecution() });
    report(progress);
  }

  function pause(reason: string): ControlReply {
    progress.status = 'paused';
    progress.reason = reason;
    log.warn('run paused', { reason });
    report(progress);
    return reply(`paused: ${reason}`);
  }

  function reply(message: string): ControlReply {
    return { status: progress.status, message };
  }

  function requireActive(): void {
    if (ended || progress.status === 'completed' || progress.status === 'cancelled') {
      throw new Error(`run is ${progress.status}`);
    }
  }
}

/**
 * What went wrong, when `err` is an activity of the step that failed for good and the run can
 * wait for a fix; undefined for failures that end the run (a config or a folder that is not ours).
 */
function stepFailure(err: unknown): { message: string; batchRefused: boolean } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  const type = cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined;
  if (type && NON_RETRYABLE_TYPES.includes(type)) return undefined;
  const why = cause?.message ?? err.message;
  const readsTheBatch = err.activityType === 'awaitRollouts' || err.activityType === 'prepareStep';
  if (readsTheBatch && type && BATCH_REFUSALS.includes(type)) return { message: why, batchRefused: true };
  if (type && BATCH_REFUSALS.includes(type)) return { message: why, batchRefused: false };
  const exhausted = err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? ' after all its attempts' : '';
  return { message: `${err.activityType} failed${exhausted}: ${why}`, batchRefused: false };
}

/** The message of a JudgeAuthError behind an activity failure, if that is what `err` is. */
function judgeRefusal(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'JudgeAuthError') {
    return err.cause.message;
  }
  return undefined;
}

function startingProgress(runId: string, config: RunConfig): RunProgress {
  return {
    runId,
    status: 'running',
    reason: undefined,
    totalSteps: config.steps,
    stepsDone: 0,
    currentStep: undefined,
    lastStep: undefined,
    recent: [],
    totals: { rollouts: 0, fallbacks: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    judgeModel: judgeModel(config),
    agreement: emptyAgreement(),
    openReviews: [],
  };
}

function judgeModel(config: RunConfig): string {
  return config.judge.provider === 'offline-heuristic' ? 'offline-heuristic' : `${config.judge.provider}:${config.judge.model}`;
}

/**
 * Validates an update payload, throwing a plain Error naming each bad field: that is what the
 * caller sees when the update is rejected (a ZodError would not be reported as clearly).
 */
function check<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const parsed = schema.safeParse(request);
  if (!parsed.success) throw new Error(describeZodIssues(parsed.error).join('; '));
  return parsed.data;
}

/** The run config with another judge, validated as a whole run config. */
function withJudge(config: RunConfig, judge: unknown): RunConfig {
  const checked = RunConfigSchema.safeParse({ ...config, judge });
  if (!checked.success) throw new Error(describeZodIssues(checked.error).join('; '));
  return checked.data;
}

/** Applies a reconfigure request, validating the result as a whole run config. */
function reconfigured(config: RunConfig, request: unknown): RunConfig {
  const next = mergeReconfigure(config, check(ReconfigureRequestSchema, request));
  const checked = RunConfigSchema.safeParse(next);
  if (!checked.success) throw new Error(describeZodIssues(checked.error).join('; '));
  return checked.data;
}

function validate(input: unknown): RunConfig {
  const parsed = RunConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = describeZodIssues(parsed.error);
    throw ApplicationFailure.nonRetryable(`invalid run config:\n  ${issues.join('\n  ')}`, 'ConfigError', { issues });
  }
  return parsed.data;
}
