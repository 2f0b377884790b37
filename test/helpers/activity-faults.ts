import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Worker-side fault injection for tests: the activities themselves run unchanged, inside the
 * worker's own interceptors (keep-alive heartbeats), as a slow disk or a failing one would.
 */

/** Each activity of a named type takes `ms` longer, as on a slow shared filesystem. */
export function slowActivities(delays: Record<string, number>): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const ms = delays[ctx.info.activityType];
        if (ms) await ctx.sleep(ms);
        return next(input);
      },
    },
  });
}

/** Attempts for which `fails` says so throw `message`, as a broken disk or a bug would. */
export function failingActivities(fails: (type: string, input: unknown) => boolean, message: string): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (fails(ctx.info.activityType, input.args[0])) throw new Error(message);
        return next(input);
      },
    },
  });
}

/**
 * Attempts for which `hold` returns a promise start only once it resolves: a judge as slow as the
 * test needs, so it can look at a run in the middle of a step without guessing at timings.
 */
export function heldActivities(hold: (type: string, input: unknown) => Promise<void> | undefined): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        await hold(ctx.info.activityType, input.args[0]);
        return next(input);
      },
    },
  });
}
