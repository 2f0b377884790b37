import { readFile } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { buildJudge } from '../src/judges/build-judge';
import { OFFLINE_HEURISTIC_PROVIDER, offlineHeuristicModel } from '../src/judges/offline-heuristic';
import { writeFileAtomic } from '../src/io/atomic-write';
import { canonicalJson } from '../src/util/canonical-json';
import { JudgeAuthError } from '../src/judges/judge-auth-error';
import { checkJudgeUrl, checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { buildAttacks, type AttackItem } from '../src/validation/attacks';
import { DatasetError, readDataset, type ValidationItem } from '../src/validation/dataset';
import type { PreferenceRecord, RubricRecord } from '../src/validation/judged-record';
import { judgeUnit, readJsonl, readUnitRecords, type UnitResult } from '../src/validation/judge-unit';
import { ValidationLayout } from '../src/validation/layout';
import { allowedOutputDir } from './owned-run-dir';
import { buildReport, type JudgeRecords } from '../src/validation/measure/report';
import { failedGateLines, formatSummary } from '../src/validation/summary';
import type { NamedJudge, ValidationConfig } from '../src/validation/validate-config';
import type { PlanCounts, PlannedJudge, WorkUnit } from '../src/validation/work-plan';

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
  let dataset: string;
  try {
    for (const j of config.judges) {
      if (j.judge.provider === 'openai-compatible' && j.judge.baseUrl !== undefined) checkJudgeUrl(j.judge.baseUrl, settings.allowedJudgeUrls);
    }
    dataset = await checkRolloutFile(config.dataset, settings.allowedRolloutDirs);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ApplicationFailure.nonRetryable(`dataset ${config.dataset} not found`, 'DatasetError');
    throw err;
  }
  const inputPath = `${layout.dir}/input.json`;
  const fingerprint = canonicalJson(config);
  const earlier = await readFile(inputPath, 'utf8').catch(() => undefined);
  if (earlier !== undefined && earlier !== fingerprint) {
    throw ApplicationFailure.nonRetryable(`${layout.dir} holds another validation with other settings; pick another validation id`, 'ValidationDirTaken');
  }
  let items: ValidationItem[];
  try {
    items = await readDataset(dataset);
  } catch (err) {
    if (err instanceof DatasetError) throw ApplicationFailure.nonRetryable(err.message, 'DatasetError');
    throw err;
  }
  const attacks = buildAttacks(items, config.attackItems);
  await writeFileAtomic(layout.items, items.map((i) => JSON.stringify(i) + '\n').join(''));
  await writeFileAtomic(layout.attacks, attacks.map((a) => JSON.stringify(a) + '\n').join(''));
  await writeFileAtomic(inputPath, fingerprint);
  return {
    counts: { items: items.length, pairs: items.filter((i) => i.pair !== undefined).length, attacks: attacks.length },
    // Position bias is measured in the mode that has it: a rubric-mode judge is not asked for comparisons it would never make in a run.
    judges: config.judges.map((j) => ({ name: j.name, canCompare: j.judge.mode === 'preference' })),
  };
}

export interface ValidateUnitInput {
  outputDir: string;
  validationId: string;
  judge: NamedJudge;
  unit: WorkUnit;
}

const MAX_HEARTBEAT_INTERVAL_MS = 5000;

/** Judges one slice of items for one judge, heartbeating how far it got. */
export async function validateUnit(input: ValidateUnitInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<UnitResult> {
  const config = input.judge.judge;
  if (config.provider === 'openai-compatible' && config.baseUrl !== undefined) {
    try {
      checkJudgeUrl(config.baseUrl, settings.allowedJudgeUrls);
    } catch (err) {
      if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
      throw err;
    }
  }
  await allowedOutputDir(input.outputDir);
  const ctx = Context.current();
  let progress = { done: 0, total: 0 };
  const timeout = ctx.info.heartbeatTimeoutMs ?? MAX_HEARTBEAT_INTERVAL_MS * 3;
  const timer = setInterval(() => ctx.heartbeat(progress), Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, timeout / 3)));
  // No cache: repeats must reach the model, or self-consistency measures the cache.
  const judge = await buildJudge(config, {});
  try {
    return await judgeUnit({
      layout: ValidationLayout.of(input.outputDir, input.validationId),
      unit: input.unit,
      judge,
      signal: ctx.cancellationSignal,
      onProgress: (done, total) => {
        progress = { done, total };
      },
    });
  } catch (err) {
    if (err instanceof JudgeAuthError) throw ApplicationFailure.nonRetryable(err.message, 'JudgeAuthError');
    throw err;
  } finally {
    clearInterval(timer);
    await judge.close();
  }
}

export interface MeasureValidationInput {
  validationId: string;
  config: ValidationConfig;
  units: WorkUnit[];
}

export interface ValidationResult {
  validationId: string;
  reportPath: string;
  summaryPath: string;
  /** The readable summary (numbers only, no rollout text). */
  summary: string;
  passed: boolean;
  failedGates: string[];
}

/** Computes every measurement from the judged files and writes report.json and summary.txt. */
export async function measureValidation(input: MeasureValidationInput): Promise<ValidationResult> {
  const { config } = input;
  await allowedOutputDir(config.outputDir);
  const layout = ValidationLayout.of(config.outputDir, input.validationId);
  const items = await readJsonl<ValidationItem>(layout.items);
  const attacks = await readJsonl<AttackItem>(layout.attacks);
  const judges: JudgeRecords[] = [];
  for (const j of config.judges) {
    const mine = input.units.filter((u) => u.judge === j.name);
    const identity = j.judge.provider === 'offline-heuristic'
      ? { provider: OFFLINE_HEURISTIC_PROVIDER, model: offlineHeuristicModel(j.judge) }
      : { provider: j.judge.provider, model: j.judge.model };
    const preferenceUnits = mine.filter((u) => u.kind === 'preference');
    const pairs = items.filter((i) => i.pair !== undefined).length;
    judges.push({
      name: j.name,
      criterionMap: j.criterionMap,
      provider: identity.provider,
      model: identity.model,
      rubric: await readUnitRecords<RubricRecord>(layout, mine.filter((u) => u.kind === 'rubric')),
      attacks: await readUnitRecords<RubricRecord>(layout, mine.filter((u) => u.kind === 'attack')),
      preference:
        preferenceUnits.length > 0
          ? await readUnitRecords<PreferenceRecord>(layout, preferenceUnits)
          : {
              notMeasured:
                j.judge.mode !== 'preference'
                  ? 'the judge is in rubric mode (set mode: preference to measure position bias)'
                  : pairs === 0
                    ? 'the dataset has no pairs'
                    : 'preference is off in the validation config',
            },
    });
  }
  const report = buildReport({ validationId: input.validationId, config, items, attacks, judges });
  const summary = formatSummary(report);
  await writeFileAtomic(layout.report, JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(layout.summary, summary);
  return { validationId: input.validationId, reportPath: layout.report, summaryPath: layout.summary, summary, passed: report.passed, failedGates: failedGateLines(report) };
}
