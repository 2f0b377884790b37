import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { isSafeRunId, RunConfigSchema, type RunConfig, type RunConfigInput } from '../src/config/run-config';
import { parseOrThrow } from '../src/config/validation-error';
import type { StepSummary } from '../src/contract/step-summary';
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
  submitRequestsUpdate,
  requestStatusQuery,
} from './definitions';
import { currentExecution } from './execution';
import { humanReview } from './human-review-legacy';
import { JudgeAhead, type HeadStart } from './judge-ahead';
import type { RunProgress } from './progress';
import { showStatus } from './web-ui-status';
import { reviewBatchSignal, runEndedSignal, runReview, runReviewWorkflowId, type ReviewBatch } from './run-review';
import { RunState, type CarriedState, type StepSource } from './run-state';
import { finalizeRun, scoreStep, type RefusedStep, type StepOutcome } from './score-step';
import { judgeRefusal, stepFailure } from './step-failure';
import { PATCHES } from './patches';
import { paceSharedQueue } from './shared-queue';

export type { CarriedState } from './run-state';

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
 * reconfigurable and cancellable while it runs (RunState holds those rules); continues as new
 * before history grows large.
 */
export async function rftRun(input: RunConfigInput, carried?: CarriedState): Promise<RunResult> {
  const config = carried?.config ?? validate(input);
  const runId = config.runId ?? workflowInfo().workflowId;
  // Only runs that would write outside outputDir reach the patch: every other history is unchanged.
  if (!isSafeRunId(runId) && patched(PATCHES.refuseUnsafeWorkflowId.id)) {
    throw ApplicationFailure.nonRetryable(
      `workflow id ${JSON.stringify(runId)} is not a safe folder name for the run's artifacts ` +
        '(letters, digits, ".", "_" and "-", starting with a letter or digit): set runId in the run config',
      'ConfigError',
      { issues: [`runId: required when the workflow id ${JSON.stringify(runId)} is not a safe folder name`] },
    );
  }
  const run = new RunState(config, runId, carried);
  listen(run);
  const ahead = new JudgeAhead(run);

  showStatus(run.progress);
  // The account queue's pace this execution set (judge.sharedQuota), set again if a reconfigure changes it.
  let paced: string | undefined;
  try {
    while (run.hasStepsLeft) {
      // A paused run pays for nothing: a step judged ahead stops (its finished chunks are kept).
      if (run.progress.status === 'paused') ahead.abandon();
      await run.untilRunnable();
      if (run.cancel) break;
      const overBudget = run.budgetReached();
      if (overBudget) {
        run.pause(overBudget);
        continue;
      }

      paced = await paceSharedQueue(run.config, paced);
      const step = run.nextStep;
      const source = await run.rolloutsOf(step);
      if (!source) break; // cancelled while waiting for the trainer
      // Paused while the step's rollouts arrived: the step waits for resume with them.
      if (run.progress.status === 'paused' && patched(PATCHES.pauseHoldsWaitingStep.id)) continue;
      const head = ahead.take(step);
      // The next step's judging may begin once it is submitted, while this one finishes.
      ahead.judgeOnceSubmitted(step + 1);
      const started = head?.started ?? Date.now();
      const outcome = await scoreInScope(run, step, source, head);
      if (outcome === 'abandoned') break;
      if (outcome === 'paused') continue; // the same step again after resume
      if ('refused' in outcome) {
        run.stepRefused(step, outcome);
        continue;
      }
      outcome.summary.durationMs = Date.now() - started;
      run.stepScored(step, outcome);
      await sendToReview(run, step, outcome);
      run.fallbackGuard(outcome.summary);
      run.canaryGuard(outcome.summary);
      showStatus(run.progress);

      if (run.continueAsNewDue()) {
        if (patched(PATCHES.drainSubmissionsBeforeContinueAsNew.id)) {
          // An update's caller waits for its step's rewards: a submission accepted here is scored
          // here, and its handler returns, before the history starts afresh (the samples' pattern:
          // wait for handlers to finish). Meanwhile new submissions wait for the next execution.
          if (!run.rollOver()) continue;
          // Only requests in the ledger are carried: those accepted a moment ago are recorded first.
          await condition(() => allHandlersFinished() && run.inbox.allAdmitted);
        } else if (!allHandlersFinished()) {
          continue;
        }
        ahead.abandon();
        log.info('continuing as new', { nextStep: run.nextStep, historyLength: workflowInfo().historyLength });
        await continueAsNew<typeof rftRun>(input, run.carried());
      }
    }
    ahead.abandon();
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => finish(run, 'cancelled', 'workflow cancelled'));
    }
    throw err;
  }

  if (run.cancel) await finish(run, 'cancelled', run.cancel.reason ?? `cancelled (${run.cancel.mode})`);
  else await finish(run, 'completed', undefined);
  const { progress } = run;
  return {
    runId,
    status: progress.status,
    stepsDone: progress.stepsDone,
    lastStep: progress.lastStep,
    totals: progress.totals,
    agreement: progress.agreement,
  };
}

/** What people and trainers can ask and send: each a one-liner onto the run's state. */
function listen(run: RunState): void {
  setHandler(progressQuery, () => run.progress);
  setHandler(configQuery, () => run.config);
  setHandler(stepSummaryQuery, (step) => run.progress.recent.find((s) => s.step === step) ?? null);
  setHandler(pauseUpdate, (r) => run.pauseRequested(r), { validator: (r) => run.validatePause(r) });
  setHandler(resumeUpdate, (r) => run.resume(r), { validator: (r) => run.validateResume(r) });
  setHandler(cancelUpdate, (r) => run.requestCancel(r), { validator: (r) => run.validateCancel(r) });
  setHandler(reconfigureUpdate, (r) => run.reconfigure(r), { validator: (r) => run.validateReconfigure(r) });
  setHandler(submitRolloutsUpdate, (r) => run.submit(r), { validator: (r) => run.validateSubmit(r) });
  setHandler(submitRequestsUpdate, (r) => run.submitRequests(r), { validator: (r) => run.validateRequests(r) });
  setHandler(requestStatusQuery, (keys) => run.inbox.statuses(keys));
  setHandler(reviewOutcomeSignal, (outcome) => run.reviewAnswered(outcome));
}

/**
 * Scores a step in a scope a cancel can abandon (its judging may have begun ahead: judge-ahead.ts).
 * A failure that people can fix pauses the run (the same step again after resume); one that the
 * batch itself caused refuses the step.
 */
async function scoreInScope(
  run: RunState,
  step: number,
  source: StepSource,
  head: HeadStart | undefined,
): Promise<StepOutcome | RefusedStep | 'abandoned' | 'paused'> {
  const scope = new CancellationScope();
  run.stepStarted(step, scope);
  // A step judged ahead runs in a scope of its own: cancelling the step reaches it too.
  if (head) scope.cancelRequested.catch(() => head.cancel());
  try {
    const watch = run.stepWatch(step);
    head?.attach(watch);
    return await scope.run(() => scoreStep(run.config, run.runId, step, source, watch, head?.judged));
  } catch (err) {
    if (isCancellation(err) && run.cancel) return 'abandoned';
    const refused = judgeRefusal(err);
    if (refused) {
      // Credentials do not fix themselves: stop paying for nothing, say why, wait for people.
      run.pause(`step ${step}: ${refused}; fix the judge's credentials (AWS default chain) or resume with another judge`);
      return 'paused';
    }
    const failed = isCancellation(err) ? undefined : stepFailure(err);
    if (failed && patched(PATCHES.stepFailuresPause.id)) {
      scope.cancel(); // the step's other chunks: it is scored again after resume
      // A file the worker may not read, or that is not there: the batch itself must change.
      if (failed.batchRefused) return { refused: `step ${step}: ${failed.message}` };
      // An activity out of attempts (a full disk, a judge down for good): the run keeps every
      // step done so far and waits for someone to fix the cause and resume.
      run.pause(`step ${step}: ${failed.message}; fix the cause, then resume (the step is scored again, finished chunks are kept)`);
      return 'paused';
    }
    throw err;
  } finally {
    run.stepStopped();
  }
}

/** A sample of the step goes to people, in a review workflow that training never waits for. */
async function sendToReview(run: RunState, step: number, outcome: StepOutcome): Promise<void> {
  if (outcome.reviewItems.length === 0) return;
  if (patched(PATCHES.oneReviewWorkflowPerRun.id)) return sendToRunReview(run, step, outcome);
  // Runs started before: one review workflow per reviewed step.
  const workflowId = `${workflowInfo().workflowId}-review-${step}`;
  await startChild(humanReview, {
    workflowId,
    args: [
      {
        parentWorkflowId: workflowInfo().workflowId,
        runId: run.runId,
        step,
        items: outcome.reviewItems,
        file: outcome.reviewFile,
        deadlineHours: run.config.review.deadlineHours,
      },
    ],
    // Training never waits for people: the review lives on if the run ends first.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `human review of ${run.runId} step ${step}: ${outcome.reviewItems.length} items`,
  });
  run.reviewStarted(workflowId);
}

/**
 * One review workflow per run, so the workflow list shows runs first and each run's review
 * queue as one row: started with the first reviewed step, then sent each further step.
 */
async function sendToRunReview(run: RunState, step: number, outcome: StepOutcome): Promise<void> {
  const workflowId = runReviewWorkflowId(workflowInfo().workflowId);
  const batch: ReviewBatch = { step, items: outcome.reviewItems, file: outcome.reviewFile, deadlineHours: run.config.review.deadlineHours };
  if (run.progress.openReviews.includes(workflowId) && (await signalled(workflowId, batch))) return;
  try {
    await startChild(runReview, {
      workflowId,
      args: [{ parentWorkflowId: workflowInfo().workflowId, runId: run.runId, batches: [batch] }],
      // Training never waits for people: the review lives on if the run ends first.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `human review of run ${run.runId}`,
    });
  } catch (err) {
    // Open already (a run before this one with the same workflow id left it open): add to it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !(await signalled(workflowId, batch))) throw err;
  }
  run.reviewStarted(workflowId);
}

/** False when the review workflow has ended (nothing was open and it stopped waiting). */
async function signalled(workflowId: string, batch: ReviewBatch): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(reviewBatchSignal, batch);
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.info('the review workflow has ended; starting it again', { workflowId, error: String(err) });
    return false;
  }
}

/** Tells the run's review workflow that no more steps will come, so it can end once answered. */
async function endReview(run: RunState): Promise<void> {
  const workflowId = runReviewWorkflowId(workflowInfo().workflowId);
  if (!run.progress.openReviews.includes(workflowId)) return;
  try {
    await getExternalWorkflowHandle(workflowId).signal(runEndedSignal);
  } catch (err) {
    log.info('the review workflow had already ended', { workflowId, error: String(err) });
  }
}

async function finish(run: RunState, status: 'completed' | 'cancelled', reason: string | undefined): Promise<void> {
  run.end(status, reason);
  await endReview(run);
  const { config, progress } = run;
  await finalizeRun(config, {
    outputDir: config.outputDir,
    runId: run.runId,
    status,
    reason,
    stepsDone: progress.stepsDone,
    totals: progress.totals,
    execution: currentExecution(),
  });
  showStatus(progress);
}

function validate(input: unknown): RunConfig {
  return parseOrThrow(RunConfigSchema, input, (issues) =>
    ApplicationFailure.nonRetryable(`invalid run config:\n  ${issues.join('\n  ')}`, 'ConfigError', { issues }),
  );
}
