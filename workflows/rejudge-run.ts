import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { judgeLabel } from '../src/config/judge-config';
import { chunkingOf } from '../src/config/shared-quota';
import { parseRejudgeInput, parseVersionConfig, type RejudgeInput } from '../src/config/rejudge-config';
import type { MissingLine } from '../src/contract/manifest';
import type { StepSummary } from '../src/contract/step-summary';
import { runActivities } from './activity-policies';
import { configQuery, progressQuery } from './definitions';
import { paceSharedQueue } from './shared-queue';
import { currentExecution } from './execution';
import { countStep, progressAt, stepAt, watchStep, type RunProgress } from './progress';
import { checkpointJudged, finalizeRun, scoreAllChunks } from './score-step';
import { showDetails, showStatus } from './web-ui-status';

export interface RejudgeResult {
  /** `<runId>@<version>`, as the progress query names it. */
  runId: string;
  version: string;
  /** The version's folder as the workers see it: a run folder (manifest.jsonl, steps/...). */
  versionDir: string;
  status: 'completed';
  stepsDone: number;
  lastStep: StepSummary | undefined;
  totals: RunProgress['totals'];
  /** Steps of the range that were not re-judged, each with why (also in the version's manifest). */
  missing: MissingLine['missing'][];
}

/**
 * Judges a run's stored rollouts again with another judge, rubric or rewards, into a version of
 * its rewards (`<runDir>/versions/<version>/`, laid out exactly as a run folder), never touching
 * the run's own files. The version is scored as a run of its own: the same activities, policies,
 * chunk resumption, judge cache (the run's) and checkpoint, one step after another.
 */
export async function rejudgeRun(input: RejudgeInput): Promise<RejudgeResult> {
  const request = parseRejudgeInput(input, fail);
  const name = `${request.runId}@${request.version}`;
  const progress: RunProgress = {
    // Until the run's manifest is read, the range asked for is all there is to count.
    ...progressAt(name, request.steps ? request.steps.to - request.steps.from + 1 : 0, request.steps?.from ?? 0, judgeLabel(request.judge, { short: true })),
    version: { run: request.runId, name: request.version },
  };
  let config = parseVersionConfig(request, request.outputDir, fail);
  setHandler(progressQuery, () => progress);
  setHandler(configQuery, () => config);
  showStatus(progress);

  const acts = runActivities(config);
  await paceSharedQueue(config);
  const plan = await acts.planRejudge({ request, execution: currentExecution() });
  config = { ...config, outputDir: plan.versionsDir };
  const missing = [...plan.missing];
  progress.totalSteps = plan.steps.length;
  progress.nextStep = plan.steps[0] ?? progress.nextStep;
  showDetails(progress);

  for (const step of plan.steps) {
    progress.currentStep = step;
    const watch = watchStep((next) => {
      if (progress.currentStep !== step) return;
      progress.inStep = next(progress.inStep ?? stepAt(step));
      showDetails(progress);
    });
    watch.preparing();
    const batch = await acts.prepareStoredStep({
      run: { outputDir: request.outputDir, runId: request.runId, rollouts: request.rollouts },
      versionsDir: plan.versionsDir,
      version: request.version,
      execution: currentExecution(),
      step,
      ...chunkingOf(config),
      groupForPreference: config.judge.mode === 'preference',
      scoring: { judge: config.judge, rewards: config.rewards, fallback: config.fallback },
      ...(config.canary && { canary: { file: config.canary.file, perStep: config.canary.perStep } }),
    });
    if ('missing' in batch) {
      missing.push({ step, reason: batch.missing });
    } else {
      watch.judging(batch.chunkCount, batch.valid);
      await scoreAllChunks(config, request.version, step, batch, watch, request.outputDir);
      const outcome = await checkpointJudged(config, request.version, step, batch, watch, {
        returnRewards: false,
        // A version has no human review of its own: reviews belong to the run people train on.
        review: { samples: 0, lowConfidenceMargin: 0, maxFlagged: 0, seed: 0 },
        input: { file: batch.source, keep: true },
      }, request.outputDir);
      countStep(progress, outcome.summary);
    }
    const i = plan.steps.indexOf(step);
    progress.nextStep = plan.steps[i + 1] ?? step + 1;
    progress.currentStep = undefined;
    progress.inStep = undefined;
    showStatus(progress);
  }

  missing.sort((a, b) => a.step - b.step);
  progress.status = 'completed';
  progress.reason = missing.length > 0 ? missing.map((m) => m.reason).join('; ') : undefined;
  await finalizeRun(config, {
    outputDir: plan.versionsDir,
    runId: request.version,
    status: 'completed',
    reason: progress.reason,
    stepsDone: progress.stepsDone,
    totals: progress.totals,
    execution: currentExecution(),
  });
  showStatus(progress);
  return {
    runId: name,
    version: request.version,
    versionDir: plan.versionDir,
    status: 'completed',
    stepsDone: progress.stepsDone,
    lastStep: progress.lastStep,
    totals: progress.totals,
    missing,
  };
}

function fail(issues: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`invalid rejudge input:\n  ${issues.join('\n  ')}`, 'ConfigError', { issues });
}

/** The workflow id a re-judge of `runWorkflowId` as `version` runs under (`arbiter run rejudge`). */
export function rejudgeWorkflowId(runWorkflowId: string, version: string): string {
  return `${runWorkflowId}-rejudge-${version}`;
}
