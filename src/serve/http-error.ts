import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { isUnreachable, rootMessage } from '../cli/errors';

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

/** What a run's submitRollouts validator or handler said, when it said no. */
export function updateRefusal(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  return err.cause?.message ?? err.message;
}

/** The run moves to a fresh history: the same submission succeeds a moment later. */
export function isRollover(err: unknown): boolean {
  return /send step \d+ again in a few seconds/.test(updateRefusal(err) ?? '');
}

/** The step number was taken: already scored, or already submitted by another caller. */
export function isStepTaken(err: unknown): boolean {
  return /step \d+ is not ahead|step \d+ was already submitted/.test(updateRefusal(err) ?? '');
}

/** Maps what Temporal answered to the HTTP status a trainer can act on. */
export function httpErrorOf(err: unknown, runId: string): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof WorkflowNotFoundError) {
    return new HttpError(404, 'unknown_run', `run ${JSON.stringify(runId)} is not running (no open workflow with that id): create it with POST /v1/runs`);
  }
  const refusal = updateRefusal(err);
  if (refusal !== undefined) {
    if (isStepTaken(err)) return new HttpError(409, 'step_taken', refusal);
    if (/the run ended|not accepted|completed|cancelled/.test(refusal)) return new HttpError(409, 'run_ended', refusal);
    return new HttpError(422, 'rejected_by_run', refusal);
  }
  if (isUnreachable(err)) return new HttpError(503, 'temporal_unreachable', `Temporal is unreachable: ${rootMessage(err)}`);
  return new HttpError(500, 'internal', rootMessage(err));
}
