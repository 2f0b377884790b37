import { ApplicationFailure, Context } from '@temporalio/activity';
import type { JudgeConfig } from '../src/config/judge-config';
import { checkJudgeUrl, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { buildJudge } from '../src/judges/build-judge';
import { JudgeAuthError } from '../src/judges/judge-auth-error';

/** Heartbeats come at least this often, and three times per heartbeat timeout. */
const MAX_HEARTBEAT_INTERVAL_MS = 5000;

type BuiltJudge = Awaited<ReturnType<typeof buildJudge>>;

/** How far the work got, for the heartbeat. */
export type OnProgress = (done: number, total: number) => void;

/**
 * The worker's API key and the rollouts go to an openai-compatible judge's URL: the worker, not
 * the run config, says where they may go. A refusal is final (retrying cannot change the setting).
 */
export function refuseUnallowedJudgeUrl(judge: JudgeConfig, settings: WorkerSettings): void {
  if (judge.provider !== 'openai-compatible' || judge.baseUrl === undefined) return;
  try {
    checkJudgeUrl(judge.baseUrl, settings.allowedJudgeUrls);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

/**
 * What every activity that judges does around its judging: builds the judge, heartbeats on a
 * timer (a slow judge call, or a wait for the shared quota, must not look like a dead worker,
 * whatever heartbeat timeout the caller chose; a heartbeat per item cost more than the judging,
 * see bench:overhead), makes refused credentials a final failure (no later call can succeed),
 * and closes the judge. `otherFailure` shapes any other error.
 */
export async function withJudgeActivity<T>(
  judgeConfig: JudgeConfig,
  options: Parameters<typeof buildJudge>[1],
  work: (judge: BuiltJudge, onProgress: OnProgress, signal: AbortSignal) => Promise<T>,
  otherFailure: (err: unknown) => unknown = (err) => err,
): Promise<T> {
  const ctx = Context.current();
  let progress = { done: 0, total: 0 };
  const timeout = ctx.info.heartbeatTimeoutMs ?? MAX_HEARTBEAT_INTERVAL_MS * 3;
  const timer = setInterval(() => ctx.heartbeat(progress), Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, timeout / 3)));
  let judge: BuiltJudge | undefined;
  try {
    judge = await buildJudge(judgeConfig, options);
    return await work(judge, (done, total) => (progress = { done, total }), ctx.cancellationSignal);
  } catch (err) {
    if (err instanceof JudgeAuthError) throw ApplicationFailure.nonRetryable(err.message, 'JudgeAuthError');
    throw otherFailure(err);
  } finally {
    clearInterval(timer);
    await judge?.close();
  }
}
