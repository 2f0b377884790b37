import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isUnreachable, rootMessage } from '../temporal/client-errors';
import { FAILURES, isFailureType, type FailureType } from '../contract/failure-types';

/** An answer the caller must act on: an HTTP status and a message naming the problem. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a run's Update validator or handler said, when it said no. */
export function updateRefusal(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  return err.cause?.message ?? err.message;
}

/**
 * Maps what Temporal answered to the HTTP status a trainer can act on: by the failure's type,
 * from the one table of failure types, never by its message.
 */
export function httpErrorOf(err: unknown, runId: string): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof WorkflowNotFoundError) {
    return new HttpError(404, 'unknown_run', `run ${JSON.stringify(runId)} is not running (no open workflow with that id): create it with POST /v1/runs`);
  }
  const failure = typedFailure(err);
  if (failure) {
    const [status, code] = FAILURES[failure.type].http;
    return new HttpError(status, code, failure.message, FAILURES[failure.type].retry ? { retryable: true } : undefined);
  }
  const refusal = updateRefusal(err);
  // A validator's plain Error (a bad field): the caller must change the request.
  if (refusal !== undefined) return new HttpError(422, 'rejected_by_run', refusal);
  if (isUnreachable(err)) return new HttpError(503, 'temporal_unreachable', `Temporal is unreachable: ${rootMessage(err)}`, { retryable: true });
  if (isDeadline(err)) return new HttpError(503, 'not_ready', `the run did not answer in time: send the request again with the same key`, { retryable: true });
  const busy = transientCode(err);
  if (busy !== undefined) {
    // The run's in-flight Update limit, a workflow closing for continue-as-new under an
    // Update-with-Start, a frontend shedding load: the same request succeeds a moment later.
    return new HttpError(503, 'temporal_busy', `Temporal could not take the request now (gRPC ${busy}: ${rootMessage(err)}): send it again with the same key`, { retryable: true });
  }
  return new HttpError(500, 'internal', rootMessage(err));
}

/**
 * The outermost failure of a known type in the cause chain: an Update's own refusal, or what an
 * activity it ran failed with (a ConfigError from the run's folder, ...).
 */
function typedFailure(err: unknown): { type: FailureType; message: string } | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && isFailureType(e.type)) return { type: e.type, message: e.message };
  }
  return undefined;
}

/** gRPC codes a retry of the same call may get past: CANCELLED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, UNAVAILABLE. */
const TRANSIENT_CODES = new Set([1, 8, 9, 10, 14]);

function transientCode(err: unknown): number | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && TRANSIENT_CODES.has(code)) return code;
  }
  return undefined;
}

/** A call that ran out of its deadline (gRPC DEADLINE_EXCEEDED, code 4). */
function isDeadline(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 4) return true;
  }
  return false;
}
