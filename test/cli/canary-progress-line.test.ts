import { describe, expect, it } from 'vitest';
import { stepLine } from '../../src/cli/format-progress';
import type { StepSummary } from '../../src/contract/step-summary';

const summary: StepSummary = {
  step: 3,
  count: 5,
  scored: 5,
  fallback: 0,
  excluded: 0,
  quarantined: 0,
  fallbackRate: 0,
  fallbackByReason: {},
  reward: { mean: 0.6, std: 0.4, min: 0, p50: 1, p90: 1, max: 1 },
  componentMeans: {},
  inputTokens: 100,
  outputTokens: 20,
  cached: 0,
  calls: 11,
  costUsd: 0,
};

describe('run watch lines', () => {
  it('show the canary accuracy of a step that has canaries, and nothing more for one without', () => {
    expect(stepLine(summary)).not.toContain('canary');
    const withCanaries = { ...summary, canary: { n: 6, correct: 3, accuracy: 0.5, kappa: 0, failed: 0, criteria: {} } };
    expect(stepLine(withCanaries, 4)).toMatch(/^step 3\/4: .*, canary 50\.0% of 6$/);
  });
});
