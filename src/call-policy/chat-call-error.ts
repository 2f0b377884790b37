import type { JudgeFailureReason } from './judge-failure-reason';

/**
 * A failed model call, classified. `retryable` says whether trying the same call again can
 * help (throttling, 5xx, timeouts) or not (auth, validation).
 */
export class ChatCallError extends Error {
  constructor(
    readonly reason: JudgeFailureReason,
    message: string,
    readonly retryable: boolean,
    readonly latencyMs = 0,
    /** Provider's error name or HTTP status, for the failure record. */
    readonly code?: string,
    /** How long the service asked us to wait before trying again (its Retry-After), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatCallError';
  }
}
