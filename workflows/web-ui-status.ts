import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { progressMarkdown, type RunProgress } from './progress';
import { ArbiterFallbackRate, ArbiterJudgeModel, ArbiterRewardMean, ArbiterStatus, ArbiterStep } from './search-attributes';

/** Shows the run's health in the Web UI: search attributes to filter by, details to read. */
export function showStatus(progress: RunProgress): void {
  upsertSearchAttributes([
    { key: ArbiterStatus, value: progress.status },
    { key: ArbiterStep, value: progress.lastStep?.step ?? 0 },
    { key: ArbiterRewardMean, value: progress.lastStep?.reward.mean ?? 0 },
    { key: ArbiterFallbackRate, value: progress.lastStep?.fallbackRate ?? 0 },
    { key: ArbiterJudgeModel, value: progress.judgeModel.slice(0, 200) },
  ]);
  setCurrentDetails(progressMarkdown(progress));
}

/**
 * Current details alone, as often as a step moves: they are answered from the workflow's state,
 * while each upsert of search attributes is a history event.
 */
export function showDetails(progress: RunProgress): void {
  setCurrentDetails(progressMarkdown(progress));
}
