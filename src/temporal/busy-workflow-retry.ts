import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';
import proto from '@temporalio/proto';

const { google, temporal } = proto;

type Status = Parameters<GrpcRetryOptions['delayFunction']>[1];
type Interceptor = ReturnType<typeof makeGrpcRetryInterceptor>;

const UPDATE_METHOD = '/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution';

/** gRPC's RESOURCE_EXHAUSTED. */
const RESOURCE_EXHAUSTED = 8;
const BUSY_WORKFLOW = temporal.api.enums.v1.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW;
const RESOURCE_EXHAUSTED_FAILURE = 'temporal.api.errordetails.v1.ResourceExhaustedFailure';
/** The first wait after a busy workflow, ms, growing ×1.7 per attempt up to a second. */
const BUSY_FIRST_MS = 50;
/** Attempts at a busy workflow: ~40 s of waits in all, as long as the SDK keeps at one (nine retries). */
const BUSY_MAX_ATTEMPTS = 45;

/**
 * The SDK's client retries, but for an Update refused by a workflow busy closing. An Update sent while the run
 * continues as new is refused with RESOURCE_EXHAUSTED, cause BUSY_WORKFLOW (the server's
 * ErrWorkflowClosing), and the SDK waits a second before the first retry, as it does for a rate
 * limit: the trainers whose requests were in that Update waited about two seconds (bench:serve's
 * p99, issue 19). The next execution takes Updates a few tens of ms later, so such a refusal is
 * retried after 50 ms, growing ×1.7 to a second, for as long in all (~40 s) as the SDK would
 * have kept at it. Decided by the cause in the status's details, not by its message; every other
 * status keeps the SDK's delays and decisions.
 */
export function busyWorkflowRetryInterceptor(): Interceptor {
  const soon = makeGrpcRetryInterceptor(busyWorkflowRetryOptions());
  const sdk = makeGrpcRetryInterceptor(defaultGrpcRetryOptions());
  // Only plain Updates. Update-with-Start (ExecuteMultiOperation) keeps the SDK's delays: once in
  // CI, a service soak whose Update-with-Start calls were retried this soon met a nondeterminism
  // error in the run's first requests, not reproduced since (issue 19's notes).
  return (options, nextCall) => (options.method_definition.path === UPDATE_METHOD ? soon(options, nextCall) : sdk(options, nextCall));
}

/** The interceptor's decisions: busy workflows soon and for ~40 s, everything else as the SDK decides. */
export function busyWorkflowRetryOptions(): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return {
    retryableDecider: (attempt, status) => (isBusyWorkflow(status) ? attempt < BUSY_MAX_ATTEMPTS : defaults.retryableDecider(attempt, status)),
    delayFunction: (attempt, status) => (isBusyWorkflow(status) ? busyDelayMs(attempt) : defaults.delayFunction(attempt, status)),
  };
}

/** The wait before retry `attempt` (from 1) of a call refused by a busy workflow: ±20 %, as the SDK jitters. */
export function busyDelayMs(attempt: number): number {
  return Math.min(1000, BUSY_FIRST_MS * 1.7 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
}

/** Whether the status is RESOURCE_EXHAUSTED with a ResourceExhaustedFailure detail whose cause is BUSY_WORKFLOW. */
export function isBusyWorkflow(status: Status): boolean {
  if (status.code !== RESOURCE_EXHAUSTED) return false;
  const raw = status.metadata?.get('grpc-status-details-bin')?.[0];
  if (!raw || typeof raw === 'string') return false;
  try {
    for (const detail of google.rpc.Status.decode(raw).details ?? []) {
      if (!detail.value || detail.type_url?.replace(/^type\.googleapis\.com\//, '') !== RESOURCE_EXHAUSTED_FAILURE) continue;
      return temporal.api.errordetails.v1.ResourceExhaustedFailure.decode(detail.value).cause === BUSY_WORKFLOW;
    }
  } catch {
    // Details that do not decode are not a busy workflow's: the SDK's own delays apply.
  }
  return false;
}
