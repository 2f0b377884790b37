import { ApplicationFailure } from '@temporalio/activity';
import { checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { joinLocation } from '../src/storage/location';
import { storeFor } from '../src/storage/stores';
import { canonicalJson } from '../src/util/canonical-json';
import { buildAttacks } from '../src/validation/attacks';
import { DatasetError, readDataset, type ValidationItem } from '../src/validation/dataset';
import { ValidationLayout } from '../src/validation/layout';
import type { ValidationConfig } from '../src/validation/validate-config';
import type { PlanCounts, PlannedJudge } from '../src/validation/work-plan';
import { allowedOutputDir } from './owned-run-dir';
import { refuseUnallowedJudgeUrl } from './with-judge';

export interface PrepareValidationInput {
  validationId: string;
  config: ValidationConfig;
}

export interface PreparedValidation {
  counts: PlanCounts;
  judges: PlannedJudge[];
}

/**
 * Checks the dataset and copies it, with the attack set built from it, into the validation's
 * folder: the judging activities read only that copy, so an edit to the dataset mid-way cannot
 * mix two datasets in one report.
 */
export async function prepareValidation(input: PrepareValidationInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<PreparedValidation> {
  const { config } = input;
  await allowedOutputDir(config.outputDir);
  const layout = ValidationLayout.of(config.outputDir, input.validationId);
  for (const j of config.judges) refuseUnallowedJudgeUrl(j.judge, settings);
  let dataset: string;
  try {
    dataset = await checkRolloutFile(config.dataset, settings.allowedRolloutDirs);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw datasetNotFound(config.dataset);
    throw err;
  }
  const store = storeFor(layout.dir);
  const inputPath = joinLocation(layout.dir, 'input.json');
  const fingerprint = canonicalJson(config);
  const earlier = await store.readText(inputPath).catch(() => undefined);
  if (earlier !== undefined && earlier !== fingerprint) {
    throw ApplicationFailure.nonRetryable(`${layout.dir} holds another validation with other settings; pick another validation id`, 'ValidationDirTaken');
  }
  let items: ValidationItem[];
  try {
    items = await readDataset(dataset);
  } catch (err) {
    if (err instanceof DatasetError) throw ApplicationFailure.nonRetryable(err.message, 'DatasetError');
    // An object's location is checked without reading it (checkRolloutFile): this is the first look.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw datasetNotFound(config.dataset);
    throw err;
  }
  const attacks = buildAttacks(items, config.attackItems);
  await store.write(layout.items, items.map((i) => JSON.stringify(i) + '\n').join(''));
  await store.write(layout.attacks, attacks.map((a) => JSON.stringify(a) + '\n').join(''));
  await store.write(inputPath, fingerprint);
  return {
    counts: { items: items.length, pairs: items.filter((i) => i.pair !== undefined).length, attacks: attacks.length },
    // Position bias is measured in the mode that has it: a rubric-mode judge is not asked for comparisons it would never make in a run.
    judges: config.judges.map((j) => ({ name: j.name, canCompare: j.judge.mode === 'preference' })),
  };
}

function datasetNotFound(dataset: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`dataset ${dataset} not found`, 'DatasetError');
}
