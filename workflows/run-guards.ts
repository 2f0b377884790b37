import type { RunConfig } from '../src/config/run-config';
import { canaryMinItems } from '../src/config/canary-config';
import { stepResultName } from '../src/contract/step-file-names';
import type { StepSummary } from '../src/contract/step-summary';
import type { BatchInfo } from '../src/steps/prepare-batch';
import { quarantineExceeded } from '../src/steps/quarantine-share';
import type { Agreement } from './progress';

/**
 * The run's guards: the conditions under which it stops scoring and waits for people, each a
 * pure function of the config and what the run has seen, giving the reason the run pauses with
 * (it tells the user what happened, where to look and what to do) or undefined. The run decides
 * when to ask them (rft-run.ts, score-step.ts, run-state.ts); here is only what each one means.
 */

/** Scoring the rest of a mostly broken file would train on a fraction of the step without anyone noticing. */
export function quarantineGuard(config: RunConfig, runId: string, batch: BatchInfo): string | undefined {
  const max = config.quarantine.maxShare;
  if (!quarantineExceeded(batch, max)) return undefined;
  const reasons = countsText(batch.quarantineReasons ?? {});
  const where = `${config.outputDir}/${runId}/steps/${stepResultName.quarantine(batch.step)}`;
  const what =
    batch.valid === 0
      ? `no valid rollout in ${batch.source} (${batch.lines} lines${reasons ? `: ${reasons}` : ''})`
      : `${batch.quarantined} of ${batch.lines} lines of ${batch.source} quarantined (${reasons}), above quarantine.maxShare ${pct(max)}`;
  return (
    `step ${batch.step}: ${what}; the lines and reasons are in ${where}. ` +
    'Fix the rollouts (a trainer sending them again with submitRollouts, or rewriting the step file), then resume; ' +
    'or raise quarantine.maxShare with reconfigure'
  );
}

/** Training on fallback rewards ruins a run. */
export function fallbackGuard(config: RunConfig, summary: StepSummary): string | undefined {
  const max = config.fallback.maxRate;
  if (summary.fallbackRate <= max || max >= 1) return undefined;
  return (
    `fallback rate ${pct(summary.fallbackRate)} exceeded ${pct(max)} at step ${summary.step} (${countsText(summary.fallbackByReason)}); ` +
    'training on fallback rewards ruins a run: fix the judge, then resume (optionally with a new judge)'
  );
}

/**
 * Gold items judged wrong more often than the floor allows: the judge is not the one the run
 * started with (a model updated under it, a downgrade, a broken rubric edit). The step stands as
 * scored; the run waits before the next one. The reason ends with the command that re-judges the
 * steps since the last good canary (`since`: the run's workflow id, and that step if any).
 */
export function canaryGuard(
  config: RunConfig,
  runId: string,
  summary: StepSummary,
  since?: { workflowId: string; lastGoodStep: number | undefined },
): string | undefined {
  if (canaryVerdict(config, summary) !== 'below') return undefined;
  const { canary, seen } = { canary: config.canary!, seen: summary.canary! };
  const reason =
    `canary accuracy ${pct(seen.accuracy!)} (${seen.correct} of ${seen.n} gold items judged right, κ ${seen.kappa?.toFixed(2) ?? 'n/a'}) ` +
    `fell below canary.floor ${pct(canary.floor)} at step ${summary.step}: the judge no longer judges as it did ` +
    `(a changed model, a downgrade, a rubric edit?); the canaries' verdicts are in ${config.outputDir}/${runId}/steps/${stepResultName.canary(summary.step)}. ` +
    'Fix or replace the judge and resume (optionally with a new judge), or lower canary.floor with reconfigure';
  if (!since) return reason;
  const from = since.lastGoodStep === undefined ? config.firstStep : since.lastGoodStep + 1;
  const good = since.lastGoodStep === undefined ? 'no step had good canaries yet' : `step ${since.lastGoodStep} was the last with good canaries`;
  return `${reason}. To score steps ${from}-${summary.step} again with a fixed judge (${good}): arbiter run rejudge ${since.workflowId} --judge <file> --steps ${from}-${summary.step}`;
}

/** Whether a step's canaries say its judge is as good as the floor asks, below it, or nothing (too few judged, no canaries). */
export function canaryVerdict(config: RunConfig, summary: StepSummary): 'good' | 'below' | undefined {
  const canary = config.canary;
  const seen = summary.canary;
  if (!canary || !seen || seen.accuracy === null || seen.n < canaryMinItems(canary)) return undefined;
  return seen.accuracy >= canary.floor ? 'good' : 'below';
}

/** Reviewers disagree with the judge more often than the run accepts. */
export function agreementGuard(config: RunConfig, agreement: Agreement): string | undefined {
  const floor = config.review.agreementFloor;
  const { accuracy, reviews } = agreement;
  if (floor === undefined || accuracy === null || reviews < config.review.minReviews || accuracy >= floor) return undefined;
  return `judge-human agreement ${pct(accuracy)} fell below the floor ${pct(floor)}`;
}

/** The spend so far reached the budget. */
export function budgetGuard(config: RunConfig, spentUsd: number): string | undefined {
  const { budgetUsd } = config;
  if (budgetUsd === undefined || spentUsd < budgetUsd) return undefined;
  return `budget of $${budgetUsd} reached ($${spentUsd.toFixed(4)} spent); raise budgetUsd with reconfigure, then resume`;
}

/**
 * Whether one more step may be judged ahead within the budget, with `alreadyAhead` steps judged
 * ahead already. It is paid for before the steps in progress are counted, so it begins only where
 * the loop would begin it too: the spend so far plus the step in the loop and those ahead, each
 * taken to cost what the last step did, still under the budget. Before any step is scored there
 * is no cost to go by (`lastStepUsd` undefined), so nothing goes ahead.
 */
export function budgetAllowsJudgingAhead(config: RunConfig, spentUsd: number, lastStepUsd: number | undefined, alreadyAhead: number): boolean {
  const { budgetUsd } = config;
  if (budgetUsd === undefined) return true;
  return lastStepUsd !== undefined && spentUsd + lastStepUsd * (1 + alreadyAhead) < budgetUsd;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function countsText(counts: Record<string, number | undefined>): string {
  return Object.entries(counts)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
}
