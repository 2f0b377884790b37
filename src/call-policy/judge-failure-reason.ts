/**
 * Why a judge gave no verdict, in the words the reward records keep (`failure.reason`) and the
 * metrics and the report count by. The call policy decides the reason; the record stores it.
 */
export const JUDGE_FAILURE_REASONS = ['parse', 'schema', 'refusal', 'throttled', 'timeout', 'server', 'auth'] as const;
export type JudgeFailureReason = (typeof JUDGE_FAILURE_REASONS)[number];
