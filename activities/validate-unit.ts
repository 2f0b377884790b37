import { workerSettingsFromEnv, type WorkerSettings } from '../src/config/worker-settings';
import { judgeUnit, type UnitResult } from '../src/validation/judge-unit';
import { ValidationLayout } from '../src/validation/layout';
import type { NamedJudge } from '../src/validation/validate-config';
import type { WorkUnit } from '../src/validation/work-plan';
import { allowedOutputDir } from './owned-run-dir';
import { refuseUnallowedJudgeUrl, withJudgeActivity } from './with-judge';

export interface ValidateUnitInput {
  outputDir: string;
  validationId: string;
  judge: NamedJudge;
  unit: WorkUnit;
}

/** Judges one slice of items for one judge, heartbeating how far it got. */
export async function validateUnit(input: ValidateUnitInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<UnitResult> {
  refuseUnallowedJudgeUrl(input.judge.judge, settings);
  await allowedOutputDir(input.outputDir);
  // No cache: repeats must reach the model, or self-consistency measures the cache.
  return withJudgeActivity(input.judge.judge, {}, (judge, onProgress, signal) =>
    judgeUnit({ layout: ValidationLayout.of(input.outputDir, input.validationId), unit: input.unit, judge, signal, onProgress }),
  );
}
