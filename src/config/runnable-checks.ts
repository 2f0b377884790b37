import type { z } from 'zod';
import { priceFor } from './known-prices';

// Pure: part of RunConfigSchema, which the workflow sandbox imports.

/** The parsed fields these checks look at (a structural slice of RunConfig, to avoid an import cycle). */
interface Checked {
  steps: number;
  judge: { provider: string; model?: string; mode: string; requestTimeoutMs?: number; maxAttempts?: number; sharedQuota?: unknown };
  scoring: { startToCloseSeconds: number; heartbeatSeconds: number };
  review: { everySteps: number; samples: number; lowConfidenceMargin: number; maxFlaggedPerStep: number; agreementFloor?: number };
  prices: Record<string, unknown>;
  budgetUsd?: number;
}

/**
 * Settings that each parse alone but together describe a run that cannot work as written: a
 * budget that is never counted, timeouts that kill every attempt, a review that never sends an
 * item. Rejected up front, naming the field to change, rather than discovered hours into a run.
 */
export function checkRunnable(c: Checked, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const llm = c.judge.provider !== 'offline-heuristic';

  if (c.budgetUsd !== undefined && llm && c.judge.model !== undefined && priceFor(c.prices, c.judge.model) === undefined) {
    issue(
      ['budgetUsd'],
      `no price for the judge model ${JSON.stringify(c.judge.model)} in prices, and Arbiter knows no list price for it, so the cost stays 0 and the budget is never reached; ` +
        `add prices.${c.judge.model} {inputPerMTok, outputPerMTok}`,
    );
  }

  const { startToCloseSeconds, heartbeatSeconds } = c.scoring;
  if (heartbeatSeconds > startToCloseSeconds) {
    issue(['scoring', 'heartbeatSeconds'], `${heartbeatSeconds} s is longer than scoring.startToCloseSeconds (${startToCloseSeconds} s)`);
  }

  if (llm && c.judge.requestTimeoutMs !== undefined && c.judge.maxAttempts !== undefined) {
    const worstCallMs = c.judge.requestTimeoutMs * c.judge.maxAttempts;
    if (worstCallMs > startToCloseSeconds * 1000) {
      issue(
        ['judge', 'requestTimeoutMs'],
        `${c.judge.requestTimeoutMs} ms × judge.maxAttempts ${c.judge.maxAttempts} = ${worstCallMs / 1000} s does not fit in ` +
          `scoring.startToCloseSeconds (${startToCloseSeconds} s): a slow call's retries would be cut off with the whole chunk`,
      );
    }
  }

  // A shared queue's rate counts tasks of a known number of calls; a preference chunk's calls
  // depend on its groups' pairs, so the queue could not be paced in calls.
  if (llm && c.judge.sharedQuota !== undefined && c.judge.mode === 'preference') {
    issue(['judge', 'sharedQuota'], 'rubric mode only: a preference chunk makes as many calls as its groups have pairs, which the shared queue cannot count');
  }

  const r = c.review;
  // Flagged items go to review on any step: low-confidence scores, and inconsistent preference verdicts.
  const flaggedPath = r.maxFlaggedPerStep > 0 && (r.lowConfidenceMargin > 0 || c.judge.mode === 'preference');
  let periodic = r.everySteps > 0;
  if (periodic && r.samples === 0) {
    periodic = false;
    if (!flaggedPath) issue(['review', 'samples'], `0 with review.everySteps ${r.everySteps}: no item would ever be sent to review`);
  }
  if (periodic && r.everySteps > c.steps) {
    periodic = false;
    issue(['review', 'everySteps'], `${r.everySteps} is more than the run's ${c.steps} steps: no step would be reviewed`);
  }
  if (r.agreementFloor !== undefined && !periodic && !flaggedPath) {
    issue(
      ['review', 'agreementFloor'],
      'set, but no review can happen to measure agreement: set review.everySteps and review.samples, or review.lowConfidenceMargin',
    );
  }
}
