import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** These heartbeat their own progress (how far a chunk got, which file a step waits for). */
const REPORTS_ITS_OWN_PROGRESS = new Set(['scoreChunk', 'awaitRollouts', 'validateUnit']);

/** Heartbeats come at least this often, and three times per heartbeat timeout. */
const MAX_INTERVAL_MS = 5000;

/**
 * Heartbeats every other activity while it runs. A heartbeat timeout is there to notice a dead
 * worker, and a live one must never look dead because a step is large or a filesystem slow:
 * that starts a second attempt beside the first, and the run fails when attempts run out.
 */
export const keepAlive: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const timeoutMs = ctx.info.heartbeatTimeoutMs;
      if (!timeoutMs || REPORTS_ITS_OWN_PROGRESS.has(ctx.info.activityType)) return next(input);
      const timer = setInterval(() => ctx.heartbeat(), Math.max(100, Math.min(MAX_INTERVAL_MS, timeoutMs / 3)));
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});
