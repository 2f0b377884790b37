import { OFFLINE_HEURISTIC_PROVIDER, offlineHeuristicModel } from '../src/judges/offline-heuristic';
import type { AttackItem } from '../src/validation/attacks';
import type { ValidationItem } from '../src/validation/dataset';
import type { PreferenceRecord, RubricRecord } from '../src/validation/judged-record';
import { readJsonl, readUnitRecords } from '../src/validation/judge-unit';
import { ValidationLayout } from '../src/validation/layout';
import { buildReport, type JudgeRecords } from '../src/validation/measure/report';
import { failedGateLines, formatSummary } from '../src/validation/summary';
import { storeFor } from '../src/storage/stores';
import type { ValidationConfig } from '../src/validation/validate-config';
import type { WorkUnit } from '../src/validation/work-plan';
import { allowedOutputDir } from './owned-run-dir';

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
  const store = storeFor(layout.dir);
  await store.write(layout.report, JSON.stringify(report, null, 2) + '\n');
  await store.write(layout.summary, summary);
  return { validationId: input.validationId, reportPath: layout.report, summaryPath: layout.summary, summary, passed: report.passed, failedGates: failedGateLines(report) };
}
