import { describe, expect, it } from 'vitest';
import { progressReport } from '../../src/cli/format-progress';
import { addReview, emptyAgreement } from '../../workflows/agreement';
import { progressMarkdown, type RunProgress } from '../../workflows/progress';

const progress = (verdicts: [boolean, boolean][]): RunProgress => ({
  runId: 'r',
  status: 'running',
  reason: undefined,
  totalSteps: 3,
  stepsDone: 1,
  currentStep: undefined,
  nextStep: 2,
  inStep: undefined,
  lastStep: undefined,
  recent: [],
  totals: { rollouts: 4, fallbacks: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  judgeModel: 'm',
  agreement: verdicts.reduce((a, [judge, human]) => addReview(a, judge, human), emptyAgreement()),
  openReviews: [],
});

describe("the run's kappa in `arbiter run` progress and the Web UI details", () => {
  it('says why kappa is n/a when the judge and every reviewer said pass on every item', () => {
    const allPass = progress([[true, true], [true, true], [true, true]]);
    expect(allPass.agreement.kappa).toBeNull();
    expect(progressReport('r', allPass)).toContain('agreement  3 reviews, accuracy 100.0%, kappa n/a (every verdict the same)');
    expect(progressMarkdown(allPass)).toContain('human review: 3 answered, agreement 100.0%, kappa n/a (every verdict the same)');
  });

  it('shows kappa itself once a verdict differs', () => {
    const mixed = progress([[true, true], [false, false], [true, false], [true, true]]);
    expect(progressReport('r', mixed)).toContain('agreement  4 reviews, accuracy 75.0%, kappa 0.50');
  });
});
