// How hard Arbiter tries one judge call, in one place. Pure constants: the run-config schema
// (which the workflow sandbox imports) takes its defaults from here. Temporal's own activity
// timeouts and retries are the workflow's (workflows/activity-policies.ts), a layer above these.

/**
 * One model call may take this long (default of `judge.requestTimeoutMs`). A judge answer of a
 * thousand tokens from a busy model takes tens of seconds; a minute tells "slow" from "stuck".
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Tries of one call on throttling, 5xx and timeouts, the first included (default of
 * `judge.maxAttempts`). With the backoff below, four retries wait at most about four seconds
 * in all: enough for a burst of throttling to pass. Longer outages are for the limiter, which slows every
 * caller down, and the step's recovery pass, not for more retries of one call.
 */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Full-jitter backoff between those tries (backoff.ts explains the jitter). 250 ms is short
 * next to a judge call (seconds), so a momentary blip costs little. The 20 s cap also bounds
 * how long a service's Retry-After may hold one call: a call waiting longer holds its place in
 * the chunk for nothing, and the step's recovery pass is the place for long waits.
 */
export const JUDGE_CALL_BACKOFF = { baseMs: 250, capMs: 20_000 } as const;

/**
 * Re-asks of a judge whose answer did not parse, failed the schema or was a refusal. One:
 * a judge shown its own answer and what was wrong usually fixes it at once, and one that does
 * not after that is unlikely to on a third try, which would pay for the question again.
 */
export const REASKS_PER_QUESTION = 1;

/**
 * The step's second chance for samples whose judgement failed on something passing (defaults
 * of `judge.recovery`): one pass after a 15 s cool-down. Bursts of throttling and 5xx are
 * usually over by then, and a step waits for it only when some of its samples failed.
 */
export const DEFAULT_RECOVERY = { coolDownSeconds: 15, passes: 1 } as const;
