import type { StepSummary } from '../src/steps/step-summary';

export type RunStatus = 'running' | 'paused' | 'completed' | 'cancelled';

export interface Agreement {
  reviews: number;
  agree: number;
  /** Share of reviews where the human and the judge gave the same pass/fail. */
  accuracy: number | null;
  /** Cohen's kappa on pass/fail: agreement beyond chance. */
  kappa: number | null;
  /** judge pass/fail × human pass/fail counts. */
  matrix: { jp_hp: number; jp_hf: number; jf_hp: number; jf_hf: number };
}

export interface RunProgress {
  runId: string;
  status: RunStatus;
  /** Why the run is paused or was cancelled. */
  reason: string | undefined;
  totalSteps: number;
  stepsDone: number;
  /** The step being scored now, if any. */
  currentStep: number | undefined;
  lastStep: StepSummary | undefined;
  /** Summaries of the latest steps, oldest first, so a watcher polling slowly misses none. */
  recent: StepSummary[];
  totals: { rollouts: number; fallbacks: number; inputTokens: number; outputTokens: number; costUsd: number };
  judgeModel: string;
  agreement: Agreement;
  openReviews: string[];
}

/** The Web UI's "current details": the run's health at a glance, as Markdown. */
export function progressMarkdown(p: RunProgress): string {
  const lines = [
    `**${p.runId}**: ${p.status}${p.reason ? ` (${p.reason})` : ''}, ${p.stepsDone}/${p.totalSteps} steps scored, judge \`${p.judgeModel}\``,
    '',
    `rollouts ${p.totals.rollouts}, fallbacks ${p.totals.fallbacks}, tokens ${p.totals.inputTokens} in / ${p.totals.outputTokens} out, est. cost $${p.totals.costUsd.toFixed(4)}`,
  ];
  if (p.agreement.reviews > 0) {
    lines.push(
      '',
      `human review: ${p.agreement.reviews} answered, agreement ${pct(p.agreement.accuracy)}, kappa ${p.agreement.kappa?.toFixed(2) ?? 'n/a'}`,
    );
  }
  if (p.recent.length > 0) {
    lines.push(
      '',
      '| step | rollouts | reward mean | p50 | p90 | fallback | quarantined | calls | tokens | seconds |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...p.recent
        .slice(-10)
        .map(
          (s) =>
            `| ${s.step} | ${s.count} | ${s.reward.mean.toFixed(3)} | ${s.reward.p50.toFixed(3)} | ${s.reward.p90.toFixed(3)} | ${pct(s.fallbackRate)} | ${s.quarantined} | ${s.calls} | ${s.inputTokens + s.outputTokens} | ${((s.durationMs ?? 0) / 1000).toFixed(1)} |`,
        ),
    );
  }
  return lines.join('\n');
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
