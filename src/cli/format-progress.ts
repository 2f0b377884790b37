import type { StepSummary } from '../contract/step-summary';
import { stepActivity, tokensInOut, type RunProgress } from '../../workflows/progress';
import { KAPPA_UNDEFINED } from '../stats/kappa';

const num = (x: number) => x.toFixed(3);
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** One line per checkpointed step: what `run watch` prints and the status shows for the last step. */
export function stepLine(s: StepSummary, totalSteps?: number): string {
  const of = totalSteps === undefined ? '' : `/${totalSteps}`;
  return (
    `step ${s.step}${of}: ${s.count} rollouts, reward mean ${num(s.reward.mean)} ` +
    `(p50 ${num(s.reward.p50)}, p90 ${num(s.reward.p90)}), fallback ${pct(s.fallbackRate)}, ` +
    `quarantined ${s.quarantined}, tokens ${s.inputTokens + s.outputTokens}${cacheBrief(s)}${canaryBrief(s)}`
  );
}

/** ` (cache read 5120)`: input the prompt cache served at a tenth of the price, when it served any. */
function cacheBrief(s: StepSummary): string {
  return s.cacheReadInputTokens ? ` (cache read ${s.cacheReadInputTokens})` : '';
}

/** `, canary 83.3% of 6`: how the step's gold items fared, for runs that have them. */
function canaryBrief(s: StepSummary): string {
  return s.canary ? `, canary ${pct(s.canary.accuracy)} of ${s.canary.n}` : '';
}

/** The last step in a few words, for the progress bar's line. */
export function stepBrief(s: StepSummary): string {
  return `step ${s.step}: mean ${num(s.reward.mean)} p50 ${num(s.reward.p50)} p90 ${num(s.reward.p90)}, fallback ${pct(s.fallbackRate)}`;
}

/** The step in progress as `run watch` prints it while it moves. */
export function inStepLine(p: RunProgress): string | undefined {
  return p.inStep && `step ${p.inStep.step}/${p.totalSteps} in progress: ${stepActivity(p.inStep)}`;
}

function stepNow(p: RunProgress): string {
  if (p.inStep) return `, step ${p.inStep.step}: ${stepActivity(p.inStep)}`;
  return p.currentStep === undefined ? '' : `, scoring step ${p.currentStep}`;
}

/** `run status`: the run's health for a person, one fact per line. */
export function progressReport(workflowId: string, p: RunProgress): string {
  const lines = [
    `run        ${p.runId}${p.runId === workflowId ? '' : ` (workflow ${workflowId})`}`,
    `status     ${p.status}${p.reason ? `: ${p.reason}` : ''}`,
    `steps      ${p.stepsDone}/${p.totalSteps} done${stepNow(p)}`,
    `judge      ${p.judgeModel}`,
  ];
  if (p.lastStep) {
    const s = p.lastStep;
    lines.push(
      `last step  ${s.step}: reward mean ${num(s.reward.mean)}, p50 ${num(s.reward.p50)}, p90 ${num(s.reward.p90)}; ` +
        `fallback ${pct(s.fallbackRate)}, quarantined ${s.quarantined}${canaryBrief(s)}`,
    );
  }
  const t = p.totals;
  lines.push(
    `totals     ${t.rollouts} rollouts, ${t.fallbacks} fallbacks (${pct(t.rollouts ? t.fallbacks / t.rollouts : null)}), ` +
      `tokens ${tokensInOut(t)}, est. cost $${(t.costUsd ?? 0).toFixed(4)}`,
  );
  const a = p.agreement;
  lines.push(
    a.reviews > 0
      ? `agreement  ${a.reviews} reviews, accuracy ${pct(a.accuracy)}, kappa ${a.kappa === null ? KAPPA_UNDEFINED : a.kappa.toFixed(2)}`
      : 'agreement  no human reviews answered yet',
  );
  lines.push(
    p.openReviews.length > 0
      ? `reviews    ${p.openReviews.length} opened: ${p.openReviews.join(', ')}`
      : 'reviews    none opened',
  );
  return lines.join('\n');
}
