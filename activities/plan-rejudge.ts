import { ApplicationFailure } from '@temporalio/activity';
import type { RejudgeRequest } from '../src/config/rejudge-config';
import { judgeLabel } from '../src/config/judge-config';
import { readManifestFile, startVersionManifest, type ManifestLine, type MissingLine, type VersionLine } from '../src/contract/manifest';
import { RunLayout } from '../src/contract/run-layout';
import type { Execution } from '../src/contract/run-owner';
import { rubricHash } from '../src/judges/rubric-hash';
import { findStoredInput } from '../src/steps/stored-input';
import { allowedOutputDir, ownedRunDir } from './owned-run-dir';

export interface PlanRejudgeInput {
  request: RejudgeRequest;
  execution: Execution;
}

export interface RejudgePlan {
  /** The version's folder is a run folder named `version` in this one (`<runDir>/versions`). */
  versionsDir: string;
  versionDir: string;
  /** Steps to judge again: checkpointed by the run, in the range, with their rollouts stored. */
  steps: number[];
  /** Steps of the range that cannot be, and why (also in the version's manifest). */
  missing: MissingLine['missing'][];
}

/**
 * Reads the run's manifest (never writing in the run's folder), finds each asked step's stored
 * rollouts, claims the version's folder for this execution and starts its manifest with what
 * the version is: of which run, with which judge and rubric, over which steps.
 */
export async function planRejudge(input: PlanRejudgeInput): Promise<RejudgePlan> {
  const { request } = input;
  await allowedOutputDir(request.outputDir);
  const run = RunLayout.of(request.outputDir, request.runId);
  const { lines } = await readManifestFile(run.manifest);
  const scored = lines.filter((l): l is ManifestLine => 'step' in l);
  if (scored.length === 0) {
    throw ApplicationFailure.nonRetryable(`runId: no checkpointed step in ${run.manifest}: is ${request.runId} a run of outputDir ${request.outputDir}?`, 'ConfigError', {
      issues: [`runId: ${run.runDir} has no checkpointed step`],
    });
  }
  const { from, to } = request.steps ?? {};
  const inRange = (step: number) => (from === undefined || step >= from) && (to === undefined || step <= to);
  const chosen = scored.filter((l) => inRange(l.step));
  const missing: MissingLine['missing'][] = [];
  // A step of the range before the run's last checkpoint that has no line was never scored.
  const last = Math.max(...scored.map((l) => l.step));
  for (let step = from ?? last + 1; step <= Math.min(to ?? last, last); step++) {
    if (!scored.some((l) => l.step === step)) missing.push({ step, reason: `step ${step}: the run has not checkpointed it` });
  }
  const steps: number[] = [];
  for (const line of chosen) {
    const found = await findStoredInput(run, line, request.rollouts);
    if ('missing' in found) missing.push({ step: line.step, reason: found.missing });
    else steps.push(line.step);
  }
  missing.sort((a, b) => a.step - b.step);

  const version = await ownedRunDir(run.versionsDir, request.version, input.execution);
  const header: VersionLine = {
    version: {
      name: request.version,
      run: request.runId,
      runDir: run.runDir,
      judge: judgeLabel(request.judge),
      rubric: request.judge.provider === 'offline-heuristic' ? undefined : { sha256: rubricHash(request.judge.rubric), criteria: request.judge.rubric.criteria.map((c) => c.id) },
      scoring: { judge: request.judge, rewards: request.rewards, fallback: request.fallback },
      steps: { from, to, checkpointed: chosen.map((l) => l.step) },
      execution: input.execution,
    },
  };
  await startVersionManifest(version, header, missing.map((m) => ({ missing: m })));
  return { versionsDir: run.versionsDir, versionDir: version.runDir, steps, missing };
}
