/**
 * Every ApplicationFailure type Arbiter raises, listed once, with what it means for whoever meets
 * it. Activity retry policies, the run's pause/refuse decisions, the service's HTTP mapping, the
 * CLI and the Python client all read this table: nothing decides by matching message text.
 * Pure data, safe in workflow code.
 *
 * - `retry`: an activity's retry policy tries again (false: the attempt's failure is final);
 * - `run`: what the run does when a step meets it: `ends` it, `pauses` it, `refuses` the batch
 *   (the trainer hears at once, nothing else is judged), or `none` (not a step failure);
 * - `http`: the status and code the service answers with, when a caller meets it.
 */
export const FAILURES = {
  // ---- a run's own failures ----
  ConfigError: { retry: false, run: 'ends', http: [422, 'invalid_run_config'] },
  RunDirTaken: { retry: false, run: 'ends', http: [409, 'run_dir_taken'] },
  JudgeAuthError: { retry: false, run: 'pauses', http: [502, 'judge_refused'] },
  CanaryFileInvalid: { retry: false, run: 'pauses', http: [500, 'internal'] },
  RolloutsMissing: { retry: false, run: 'refuses', http: [422, 'step_refused'] },
  RolloutsUnterminated: { retry: false, run: 'refuses', http: [422, 'step_refused'] },
  RolloutsIncomplete: { retry: false, run: 'refuses', http: [422, 'step_refused'] },
  WorkerSettingsRefusal: { retry: false, run: 'refuses', http: [403, 'not_allowed'] },
  StepRefused: { retry: false, run: 'refuses', http: [422, 'step_refused'] },
  /** judge.sharedQuota on a Temporal server without task-queue rate limits (UpdateTaskQueueConfig, Server 1.28+). */
  SharedQuotaUnsupported: { retry: false, run: 'ends', http: [500, 'shared_quota_unsupported'] },
  // ---- what a run's Updates answer (validators and handlers) ----
  /** The request is malformed: a field named in the message. */
  InvalidRequest: { retry: false, run: 'none', http: [422, 'invalid_request'] },
  /** A request key (or a step) already accepted with other content: never answered with the other's rewards. */
  IdempotencyKeyReused: { retry: false, run: 'none', http: [409, 'idempotency_key_reused'] },
  /** An explicit step number the run has passed, or that another caller holds with other rollouts. */
  StepTaken: { retry: false, run: 'none', http: [409, 'step_taken'] },
  /** The run is moving to a fresh history (continue-as-new): the same call succeeds a moment later. */
  RunRollingOver: { retry: true, run: 'none', http: [503, 'run_rolling_over'] },
  /** The run has completed or was cancelled: it accepts nothing more. */
  RunEnded: { retry: false, run: 'none', http: [409, 'run_ended'] },
  /** The run could not record accepted requests in its ledger (its local activity out of attempts): the message says why. */
  AdmissionFailed: { retry: false, run: 'none', http: [500, 'not_recorded'] },
  /** The run reads its rollouts from a directory: it takes no submissions. */
  NotUpdatesFed: { retry: false, run: 'none', http: [422, 'not_updates_fed'] },
  /** A control that does not apply to the run as it is (resume a running run, ...). */
  ControlRefused: { retry: false, run: 'none', http: [409, 'control_refused'] },
  // ---- judge validation ----
  DatasetError: { retry: false, run: 'none', http: [422, 'invalid_dataset'] },
  ValidationDirTaken: { retry: false, run: 'none', http: [409, 'validation_dir_taken'] },
} as const satisfies Record<string, { retry: boolean; run: 'ends' | 'pauses' | 'refuses' | 'none'; http: readonly [number, string] }>;

export type FailureType = keyof typeof FAILURES;

export function isFailureType(type: string | null | undefined): type is FailureType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(FAILURES, type);
}

/** Failure types an activity's retry policy must not try again. */
export const NON_RETRYABLE_FAILURES: string[] = Object.entries(FAILURES)
  .filter(([, f]) => !f.retry)
  .map(([type]) => type);

/** Failure types that say the step's batch itself cannot be read as given. */
export const BATCH_REFUSAL_FAILURES: string[] = Object.entries(FAILURES)
  .filter(([, f]) => f.run === 'refuses')
  .map(([type]) => type);
