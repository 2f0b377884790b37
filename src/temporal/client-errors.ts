import { isGrpcServiceError, WorkflowUpdateFailedError } from '@temporalio/client';

// What a Temporal client call's error means, for whoever shows it (the CLI, the service).

// gRPC status codes that mean "the server did not answer", as opposed to "it answered no".
const UNREACHABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

/** True when an error means the server could not be reached at all. */
export function isUnreachable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e) && UNREACHABLE_CODES.has(e.code)) return true;
  }
  return false;
}

/** The most specific message in an error's cause chain (gRPC details over wrapper text). */
export function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    message = isGrpcServiceError(e) && e.details ? e.details : e.message || message;
  }
  return message;
}

/**
 * What a workflow said when it refused an update. The run's validators throw plain errors
 * that already name each bad field (`field: problem`), so the message is shown as it is.
 */
export function updateRejection(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  return err.cause?.message ?? err.message;
}
