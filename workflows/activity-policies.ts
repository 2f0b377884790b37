import { proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../src/config/run-config';
import { fairnessKeyOf, sharedQuotaOf } from '../src/config/shared-quota';
import { BATCH_REFUSAL_FAILURES, NON_RETRYABLE_FAILURES } from '../src/contract/failure-types';

/**
 * Failures that trying again cannot fix: the run stops at once (or pauses, see rftRun) with the
 * message, instead of paying for ten attempts.
 */
export const NON_RETRYABLE_TYPES = NON_RETRYABLE_FAILURES;

/**
 * Failures that say the step's rollouts cannot be read as given (missing, or where this worker
 * may not read): the run pauses with the reason, and a trainer that sent the batch hears it at once.
 */
export const BATCH_REFUSALS = BATCH_REFUSAL_FAILURES;

/**
 * Every activity of a run, with its timeouts and retry policy: the one place they are chosen.
 *
 * - The heartbeat timeout (`scoring.heartbeatSeconds`) is how soon a dead worker is noticed. Every
 *   activity heartbeats while it runs (the worker's keep-alive interceptor, or its own progress),
 *   so a large step or a slow filesystem never looks dead, and attempts never overlap.
 * - Start-to-close bounds one attempt by what the activity does: file work by the size of a
 *   step, judging by the run's `scoring` policy, waiting for a trainer by `waitTimeoutSeconds`.
 */
export function runActivities(config: RunConfig) {
  const s = config.scoring;
  const heartbeatTimeout = s.heartbeatSeconds * 1000;
  const scoringRetry: ActivityOptions['retry'] = {
    initialInterval: s.initialIntervalSeconds * 1000,
    backoffCoefficient: s.backoffCoefficient,
    maximumInterval: s.maximumIntervalSeconds * 1000,
    maximumAttempts: s.maximumAttempts,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  };

  // Reading, validating and writing a step's files: minutes for millions of lines, never hours.
  const files = proxyActivities<typeof activities>({
    startToCloseTimeout: '1h',
    heartbeatTimeout,
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  });
  // Judging a chunk: as long as the run's scoring policy allows, retried as it says; on a shared
  // account, on its queue, where Temporal paces all runs' chunks and shares them out by weight.
  const shared = sharedQuotaOf(config.judge);
  const judging = proxyActivities<typeof activities>({
    startToCloseTimeout: s.startToCloseSeconds * 1000,
    heartbeatTimeout,
    retry: scoringRetry,
    ...(shared && { taskQueue: shared.taskQueue, priority: { fairnessKey: fairnessKeyOf(workflowInfo().workflowId), fairnessWeight: shared.weight } }),
  });
  // Recording trainer requests in the run's ledger (one batch file, milliseconds), beside the
  // workflow as a local activity: no round trip through the task queue before a request can be
  // numbered into a step, and its input (the requests' rollouts, already in history once in their
  // Update) stays out of history, which a task-queue activity's input would double (bench:serve
  // then outgrew gRPC's 4 MiB message for a history). A worker that dies mid-way records them
  // again on replay (idempotent).
  const beside = proxyLocalActivities<typeof activities>({
    startToCloseTimeout: '5m',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  });
  const waitSeconds = config.rollouts.type === 'directory' ? config.rollouts.waitTimeoutSeconds : 0;
  // Waiting for the trainer's file: as long as the run is willing to wait, plus a margin to say so.
  const waiting = proxyActivities<typeof activities>({
    startToCloseTimeout: (waitSeconds + 300) * 1000,
    heartbeatTimeout,
    retry: scoringRetry,
  });

  return {
    awaitRollouts: waiting.awaitRollouts,
    stageRollouts: files.stageRollouts,
    admitRequests: files.admitRequests,
    assembleStep: files.assembleStep,
    prepareStep: files.prepareStep,
    scoreChunk: judging.scoreChunk,
    checkpointStep: files.checkpointStep,
    finalizeRun: files.finalizeRun,
    /** Sets the shared judge queue's rate from the run's quota (judge.sharedQuota), at each execution's start. */
    paceSharedQueue: files.paceSharedQueue,
    /** The ledger's local activity, for requests admitted in the background (`admit-requests-in-background`). */
    admitRequestsBeside: beside.admitRequests,
    /** A step scored at once (score-at-once.ts): prepared, judged and checkpointed beside the workflow, in the task that took it. */
    scoreStepAtOnce: beside.scoreStepAtOnce,
    // A re-judge (rejudgeRun): reading the run's manifest and stored rollouts is file work too.
    planRejudge: files.planRejudge,
    prepareStoredStep: files.prepareStoredStep,
  };
}

/**
 * The judge validation's activities. Judging a slice is retried like a run's chunk (a retry
 * judges only what is missing); reading the dataset and measuring are file work.
 */
export function validationActivities() {
  const retry: ActivityOptions['retry'] = {
    initialInterval: '1s',
    maximumInterval: '60s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  };
  const files = proxyActivities<typeof activities>({ startToCloseTimeout: '1h', heartbeatTimeout: '60s', retry });
  const judging = proxyActivities<typeof activities>({ startToCloseTimeout: '2h', heartbeatTimeout: '60s', retry });
  return {
    prepareValidation: files.prepareValidation,
    validateUnit: judging.validateUnit,
    measureValidation: files.measureValidation,
  };
}
