import { describe, expect, it } from 'vitest';
import { RunConfigSchema, type RunConfig } from '../../src/config/run-config';
import type { StepSummary } from '../../src/contract/step-summary';
import type { BatchInfo } from '../../src/steps/prepare-batch';
import { agreementGuard, budgetAllowsJudgingAhead, budgetGuard, canaryGuard, canaryVerdict, fallbackGuard, quarantineGuard } from '../../workflows/run-guards';

const config = (extra: Record<string, unknown> = {}): RunConfig =>
  RunConfigSchema.parse({ steps: 3, rollouts: { type: 'directory', path: '/r' }, outputDir: '/out', ...extra });
const summary = (s: Partial<StepSummary>): StepSummary => ({ step: 4, fallbackRate: 0, fallbackByReason: {}, ...s }) as StepSummary;
const batch = (b: Partial<BatchInfo>): BatchInfo => ({ step: 7, source: 'step-000007.jsonl', lines: 10, valid: 10, quarantined: 0, quarantineReasons: {}, chunkCount: 1, key: 'k', ...b });

describe('the run guards', () => {
  it('quarantine: a step with no valid rollout, or too many bad lines, names the file of reasons', () => {
    const c = config({ quarantine: { maxShare: 0.2 } });
    expect(quarantineGuard(c, 'run-1', batch({ quarantined: 2, valid: 8 }))).toBeUndefined();
    expect(quarantineGuard(c, 'run-1', batch({ quarantined: 3, valid: 7, quarantineReasons: { 'broken JSON': 3 } }))).toBe(
      'step 7: 3 of 10 lines of step-000007.jsonl quarantined (broken JSON 3), above quarantine.maxShare 20.0%; ' +
        'the lines and reasons are in /out/run-1/steps/000007.quarantine.jsonl. Fix the rollouts (a trainer sending them again ' +
        'with submitRollouts, or rewriting the step file), then resume; or raise quarantine.maxShare with reconfigure',
    );
    expect(quarantineGuard(c, 'run-1', batch({ lines: 0, valid: 0 }))).toMatch(/^step 7: no valid rollout in step-000007\.jsonl \(0 lines\)/);
  });

  it('fallback: above the rate, with the reasons counted; a rate of 1 never pauses', () => {
    const c = config({ fallback: { maxRate: 0.1 } });
    expect(fallbackGuard(c, summary({ fallbackRate: 0.1 }))).toBeUndefined();
    expect(fallbackGuard(c, summary({ fallbackRate: 0.25, fallbackByReason: { throttled: 2, parse: 1 } }))).toMatch(
      /^fallback rate 25\.0% exceeded 10\.0% at step 4 \(throttled 2, parse 1\); training on fallback rewards ruins a run/,
    );
    expect(fallbackGuard(config({ fallback: { maxRate: 1 } }), summary({ fallbackRate: 1 }))).toBeUndefined();
  });

  it('canary: below the floor once enough gold items were judged, pointing at their verdicts', () => {
    const c = { ...config(), canary: { file: '/gold.jsonl', perStep: 10, floor: 0.8, minItems: 5 } } as unknown as RunConfig;
    const seen = (n: number, correct: number) => summary({ canary: { n, correct, accuracy: correct / n, kappa: 0.1, failed: 0, criteria: {} } });
    expect(canaryGuard(c, 'run-1', seen(10, 8))).toBeUndefined();
    expect(canaryGuard(c, 'run-1', seen(4, 1))).toBeUndefined(); // too few to say
    expect(canaryGuard(c, 'run-1', seen(10, 5))).toMatch(/^canary accuracy 50\.0% \(5 of 10 gold items judged right, κ 0\.10\) fell below canary\.floor 80\.0% at step 4: .* \/out\/run-1\/steps\/000004\.canary\.jsonl/);
    // With the run's workflow id: the command that re-judges the steps since the last good canaries.
    expect(canaryGuard(c, 'run-1', seen(10, 5), { workflowId: 'wf-1', lastGoodStep: 2 })).toMatch(
      /canary\.jsonl\. Fix or replace .*\. To score steps 3-4 again with a fixed judge \(step 2 was the last with good canaries\): arbiter run rejudge wf-1 --judge <file> --steps 3-4$/,
    );
    expect(canaryGuard(c, 'run-1', seen(10, 5), { workflowId: 'wf-1', lastGoodStep: undefined })).toMatch(/\(no step had good canaries yet\): arbiter run rejudge wf-1 --judge <file> --steps 1-4$/);
    expect(canaryVerdict(c, seen(10, 8))).toBe('good');
    expect(canaryVerdict(c, seen(4, 1))).toBeUndefined();
  });

  it('agreement: below the floor after the minimum number of reviews', () => {
    const c = config({ review: { everySteps: 1, samples: 2, agreementFloor: 0.7, minReviews: 4 } });
    const agreement = (reviews: number, accuracy: number) => ({ reviews, agree: 0, accuracy, kappa: null, matrix: { jp_hp: 0, jp_hf: 0, jf_hp: 0, jf_hf: 0 } });
    expect(agreementGuard(c, agreement(3, 0.3))).toBeUndefined();
    expect(agreementGuard(c, agreement(4, 0.5))).toBe('judge-human agreement 50.0% fell below the floor 70.0%');
    expect(agreementGuard(config(), agreement(10, 0))).toBeUndefined(); // no floor set
  });

  it('budget: reached at the budget; judging ahead only when the steps in flight, priced like the last, still fit', () => {
    const c = config({ budgetUsd: 1 });
    expect(budgetGuard(c, 0.99)).toBeUndefined();
    expect(budgetGuard(c, 1)).toBe('budget of $1 reached ($1.0000 spent); raise budgetUsd with reconfigure, then resume');
    expect(budgetAllowsJudgingAhead(c, 0.5, undefined, 0)).toBe(false); // no step priced yet
    expect(budgetAllowsJudgingAhead(c, 0.5, 0.2, 0)).toBe(true); // 0.5 + 0.2 < 1
    expect(budgetAllowsJudgingAhead(c, 0.5, 0.2, 2)).toBe(false); // 0.5 + 0.6 ≥ 1
    expect(budgetAllowsJudgingAhead(config(), 100, 50, 5)).toBe(true);
  });
});
