import { defineQuery } from '@temporalio/workflow';
import type { StepSummary } from '../src/steps/step-summary';

export type RunStatus = 'running' | 'completed';

export interface RunProgress {
  runId: string;
  status: RunStatus;
  totalSteps: number;
  stepsDone: number;
  /** The step being scored now, if any. */
  currentStep: number | undefined;
  lastStep: StepSummary | undefined;
  /** Summaries of the latest steps, oldest first, so a watcher polling slowly misses none. */
  recent: StepSummary[];
}

export const progressQuery = defineQuery<RunProgress>('progress');

/** The Web UI's "current details": a Markdown table of the latest steps. */
export function progressMarkdown(p: RunProgress): string {
  const recent = p.recent;
  const head = `**${p.runId}**: ${p.status}, ${p.stepsDone}/${p.totalSteps} steps scored`;
  if (recent.length === 0) return head;
  const rows = recent.map(
    (s) =>
      `| ${s.step} | ${s.count} | ${s.reward.mean.toFixed(3)} | ${s.reward.p50.toFixed(3)} | ${(s.fallbackRate * 100).toFixed(1)}% | ${s.quarantined} |`,
  );
  return [
    head,
    '',
    '| step | rollouts | reward mean | p50 | fallback | quarantined |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
