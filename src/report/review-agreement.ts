import { addReview, emptyAgreement } from '../../workflows/agreement';
import type { StepAgreement } from './report-data';

export interface AnsweredItem {
  step: number;
  judgePass: boolean;
  humanPass: boolean;
}

/** Judge-human agreement per step, computed as the run computes its own (accuracy and Cohen's kappa). */
export function agreementByStep(answers: AnsweredItem[]): StepAgreement[] {
  const byStep = new Map<number, ReturnType<typeof emptyAgreement>>();
  for (const a of answers) byStep.set(a.step, addReview(byStep.get(a.step) ?? emptyAgreement(), a.judgePass, a.humanPass));
  return [...byStep]
    .sort(([a], [b]) => a - b)
    .map(([step, a]) => ({ step, reviews: a.reviews, accuracy: a.accuracy, kappa: a.kappa }));
}
