import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import { isSafeRunId } from '../src/config/run-config';
import { parseOrThrow } from '../src/config/validation-error';
import { ValidationInputSchema, type ValidationInput } from '../src/validation/validate-config';
import { planUnits, type WorkUnit } from '../src/validation/work-plan';
import type { ValidationResult } from '../activities/measure-validation';
import { validationActivities } from './activity-policies';
import { boundedAll } from '../src/util/bounded-all';
import { validationProgressQuery, type ValidationProgress } from './definitions';

export type { ValidationResult } from '../activities/measure-validation';

/**
 * Can this judge be trusted? Judges a labelled dataset (several times, for self-consistency),
 * a built-in attack set and, in preference mode, each pair in both orders, with every judge
 * given; then measures the judgements against the labels and each other. Judgements live in
 * files under the validation's folder, never in this history; a retried or resumed slice
 * judges only what is missing.
 */
export async function judgeValidation(input: ValidationInput): Promise<ValidationResult> {
  const config = parseOrThrow(ValidationInputSchema, input, (issues) =>
    ApplicationFailure.nonRetryable(`invalid validation input:\n  ${issues.join('\n  ')}`, 'ConfigError'),
  );
  const validationId = config.validationId ?? workflowInfo().workflowId;
  // The id names the validation's folder: one that would write outside outputDir is refused.
  if (!isSafeRunId(validationId)) {
    throw ApplicationFailure.nonRetryable(
      `validation id ${JSON.stringify(validationId)} is not a safe folder name (letters, digits, ".", "_" and "-", starting with a letter or digit): set validationId`,
      'ConfigError',
    );
  }
  const acts = validationActivities();
  const progress: ValidationProgress = { validationId, phase: 'preparing', units: 0, unitsDone: 0, judged: 0, failed: 0, calls: 0 };
  setHandler(validationProgressQuery, () => progress);

  const prepared = await acts.prepareValidation({ validationId, config });
  const units: WorkUnit[] = planUnits(prepared.judges, prepared.counts, config);
  Object.assign(progress, { phase: 'judging', units: units.length, items: prepared.counts.items });

  await boundedAll(units.length, config.maxChunksInFlight, async (i) => {
    const unit = units[i]!;
    const judge = config.judges.find((j) => j.name === unit.judge)!;
    const result = await acts.validateUnit({ outputDir: config.outputDir, validationId, judge, unit });
    progress.unitsDone++;
    progress.judged += result.judged;
    progress.failed += result.failed;
    progress.calls += result.attempts;
  });

  progress.phase = 'measuring';
  const result = await acts.measureValidation({ validationId, config, units });
  progress.phase = 'done';
  progress.passed = result.passed;
  return result;
}
