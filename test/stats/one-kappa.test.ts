import { describe, expect, it } from 'vitest';
import { CanaryTally, type ChunkRecord } from '../../src/steps/canary-tally';
import { cohensKappa } from '../../src/stats/kappa';
import { binaryAgreement } from '../../src/validation/measure/human-agreement';
import { addReview, emptyAgreement } from '../../workflows/agreement';

/** [judge pass, human (or gold) pass] per item. */
type Verdicts = [boolean, boolean][];

const P = true;
const F = false;
const cases: Record<string, Verdicts> = {
  'judge and every reviewer said pass on every item': [[P, P], [P, P], [P, P], [P, P]],
  'judge and every reviewer said fail on every item': [[F, F], [F, F], [F, F]],
  'a judge that passes everything, one human fail': [[P, P], [P, P], [P, F], [P, P]],
  'perfect agreement on both verdicts': [[P, P], [F, F], [P, P], [F, F]],
  'perfect disagreement': [[P, F], [F, P], [P, F], [F, P]],
  'the Wikipedia example, 20 / 5 / 10 / 15 (κ = 0.4)': [
    ...Array.from({ length: 20 }, (): [boolean, boolean] => [P, P]),
    ...Array.from({ length: 5 }, (): [boolean, boolean] => [P, F]),
    ...Array.from({ length: 10 }, (): [boolean, boolean] => [F, P]),
    ...Array.from({ length: 15 }, (): [boolean, boolean] => [F, F]),
  ],
};

/** The run's κ: the workflow folds each answered review into its agreement. */
function runKappa(verdicts: Verdicts): number | null {
  return verdicts.reduce((a, [judge, human]) => addReview(a, judge, human), emptyAgreement()).kappa;
}

/** The canaries' κ: a step's tally of judge verdicts against gold labels. */
function canaryKappa(verdicts: Verdicts): number | null {
  const tally = new CanaryTally();
  verdicts.forEach(([judge, gold], i) => {
    const record = {
      id: `canary:${i}`,
      step: 1,
      reward: judge ? 1 : 0,
      status: 'scored',
      breakdown: {},
      judge: { provider: 'test', model: 'test', rationale: '', attempts: 1, inputTokens: 0, outputTokens: 0, latencyMs: 0 },
      flags: [],
      canary: { score: judge ? 1 : 0, criteria: {} },
    } satisfies ChunkRecord;
    tally.add({ batchId: `canary:${i}`, id: String(i), label: { pass: gold } }, record);
  });
  return tally.summary().kappa;
}

/** Judge validation's κ of the judge's pass/fail against the human's. */
function validationKappa(verdicts: Verdicts): number | null {
  const agreement = binaryAgreement(verdicts.map(([j]) => j), verdicts.map(([, h]) => h), { resamples: 20, confidence: 0.95, seed: 1 });
  return agreement?.kappa?.estimate ?? null;
}

function libraryKappa(verdicts: Verdicts): number | null {
  const kappa = cohensKappa(verdicts.map(([j]) => j), verdicts.map(([, h]) => h));
  return Number.isFinite(kappa) ? kappa : null;
}

describe("one Cohen's κ for the run, the canaries and judge validation", () => {
  for (const [name, verdicts] of Object.entries(cases)) {
    it(`agree: ${name}`, () => {
      const run = runKappa(verdicts);
      for (const [path, kappa] of [['canary', canaryKappa(verdicts)], ['validation', validationKappa(verdicts)], ['src/stats', libraryKappa(verdicts)]] as const) {
        if (run === null) expect(kappa, `${path} κ where the run's is null`).toBeNull();
        else expect(kappa, `${path} κ against the run's ${run}`).toBeCloseTo(run, 6);
      }
    });
  }

  it('leave κ undefined (null) when the judge and every reviewer gave every item the same verdict', () => {
    expect(runKappa(cases['judge and every reviewer said pass on every item']!)).toBeNull();
    expect(canaryKappa(cases['judge and every reviewer said fail on every item']!)).toBeNull();
    expect(runKappa(cases['a judge that passes everything, one human fail']!)).toBe(0);
    expect(runKappa(cases['the Wikipedia example, 20 / 5 / 10 / 15 (κ = 0.4)']!)).toBeCloseTo(0.4, 12);
  });
});
