import type { Client } from '@temporalio/client';
import { stepSummaryQuery } from '../../workflows/definitions';

/** Step summaries kept per service; the oldest are forgotten first (each is a few hundred bytes). */
const MAX_KEPT = 2_000;

/**
 * A scored step's summary, as its run gives it (the `stepSummary` query), or null when the run
 * no longer holds it or cannot be asked now. A step's summary never changes once the step is
 * scored, so the service asks once per step, not once per caller: every caller of a step of
 * the native API gets it with its rewards, and a query per caller was a query per request.
 * A null is not kept: the next caller asks again.
 */
export function stepSummaries(client: Client): (runId: string, step: number) => Promise<unknown> {
  const kept = new Map<string, Promise<unknown>>();
  return (runId, step) => {
    const key = `${runId}\0${step}`;
    let summary = kept.get(key);
    if (!summary) {
      summary = client.workflow
        .getHandle(runId)
        .query(stepSummaryQuery, step)
        .catch(() => null);
      kept.set(key, summary);
      if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
      void summary.then((s) => {
        if (s === null || s === undefined) kept.delete(key);
      });
    }
    return summary;
  };
}
