import { ApplicationFailure } from '@temporalio/activity';
import type { RunConfig } from '../src/config/run-config';
import { assembleStepFile } from '../src/contract/request-ledger';
import type { Execution } from '../src/contract/run-owner';
import type { RunLayout } from '../src/contract/run-layout';
import { prepareBatch, type BatchInfo } from '../src/steps/prepare-batch';
import { CanaryFileError, loadCanarySet, pickCanaries, type CanaryItem } from '../src/steps/canary-set';
import { endsWithNewline } from '../src/steps/step-readiness';
import { checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { usePromptCache } from '../src/config/prompt-cache-support';
import { ownedRunDir } from './owned-run-dir';

export interface PrepareStepInput {
  outputDir: string;
  runId: string;
  step: number;
  /** The step's rollout file: the trainer's, or one staged from a submitRollouts update. */
  file?: string;
  /**
   * Instead of `file`: the ledger ids of the trainer requests the run placed in the step, in
   * order. Their staged rollouts are written to the run's inbox as the step's file (and each
   * request's record names the step) before the step is prepared from it.
   */
  assembleFrom?: string[];
  chunkSize: number;
  maxChunks: number;
  /** Preference mode compares rollouts of one prompt: keep each group inside one chunk. */
  groupForPreference: boolean;
  /** What the batch will be scored with: part of its key, so another judge never resumes these results. */
  scoring?: Pick<RunConfig, 'judge' | 'rewards' | 'fallback'>;
  /** Gold items to mix into the step (the run's canary config). */
  canary?: { file: string; perStep: number };
  execution?: Execution;
}

/** Validates and chunks a step's rollouts; bad lines go to quarantine with their line numbers. */
export async function prepareStep(input: PrepareStepInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<BatchInfo> {
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  return prepareInto(layout, input, settings, {
    file: () => (input.assembleFrom ? assembleStepFile(layout, input.assembleFrom, input.step) : Promise.resolve(input.file!)),
    // The run's inbox, where the worker stages inline rollouts itself.
    readableDirs: [layout.inboxDir],
    what: `rollout file ${input.file ?? `of step ${input.step}'s requests`}`,
  });
}

/** How a step is cut into chunks and what it is scored with: what prepareStep and a re-judge's prepare share. */
export type BatchSettings = Pick<PrepareStepInput, 'step' | 'chunkSize' | 'maxChunks' | 'groupForPreference' | 'scoring' | 'canary'>;

/**
 * Validates and chunks the rollouts of `from.file` into `layout`'s work folder for the step, with
 * its canaries. A path comes from a run config or an Update: only folders the worker's operator
 * allows are read, plus `from.readableDirs` (the run's own inbox).
 */
export async function prepareInto(
  layout: RunLayout,
  input: BatchSettings,
  settings: WorkerSettings,
  from: { file: () => Promise<string>; readableDirs: string[]; what: string },
): Promise<BatchInfo> {
  const canaries = input.canary ? await stepCanaries(input.canary, input.step, input.scoring?.judge, settings) : undefined;
  try {
    const source = await checkRolloutFile(await from.file(), [...settings.allowedRolloutDirs, ...from.readableDirs]);
    await refuseUnterminated(source, from.what);
    return await prepareBatch({
      source,
      layout,
      step: input.step,
      chunkSize: input.chunkSize,
      maxChunks: input.maxChunks,
      keepGroupsTogether: input.groupForPreference || cachesGroupPrefixes(input.scoring?.judge),
      cutLargeGroups: !input.groupForPreference,
      scoring: input.scoring,
      canaries,
    });
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(from.what);
    throw err;
  }
}

/**
 * The step's canaries from the run's canary file. Its faults are not the batch's: they pause the
 * run with the file's lines named (CanaryFileInvalid), and the step is prepared again on resume.
 */
async function stepCanaries(
  canary: { file: string; perStep: number },
  step: number,
  judge: RunConfig['judge'] | undefined,
  settings: WorkerSettings,
): Promise<CanaryItem[]> {
  try {
    const file = await checkRolloutFile(canary.file, settings.allowedRolloutDirs);
    const criterionIds = judge && judge.provider !== 'offline-heuristic' ? judge.rubric.criteria.map((c) => c.id) : undefined;
    return pickCanaries(await loadCanarySet(file, { criterionIds }), canary.perStep, step);
  } catch (err) {
    if (err instanceof CanaryFileError) throw ApplicationFailure.nonRetryable(err.message, 'CanaryFileInvalid', { issues: err.issues });
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(`canary.file: ${err.message}`, 'CanaryFileInvalid');
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ApplicationFailure.nonRetryable(`canary.file ${canary.file} not found`, 'CanaryFileInvalid');
    }
    throw err;
  }
}

function notFound(what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} not found`, 'RolloutsMissing');
}

/** A cut last line is a file still being written, not a bad line to quarantine: the whole step waits for the whole file. */
async function refuseUnterminated(file: string, what: string): Promise<void> {
  const terminated = await endsWithNewline(file);
  // An object's location is checked without reading it (checkRolloutFile): this is the first look.
  if (terminated === undefined) throw notFound(what);
  if (terminated) return;
  throw ApplicationFailure.nonRetryable(
    `${file} ends without a newline: a file still being written? Every line, the last too, must end with "\\n"; send the step once the file is whole`,
    'RolloutsUnterminated',
  );
}

/** A Bedrock judge with prompt caching judges a group's first rollout before the others: the group must share a chunk. */
function cachesGroupPrefixes(judge: RunConfig['judge'] | undefined): boolean {
  return judge?.provider === 'bedrock' && judge.groupPromptCache !== false && usePromptCache(judge.model, judge.promptCache);
}
