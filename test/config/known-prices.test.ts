import { describe, expect, it } from 'vitest';
import { knownPrice, priceFor } from '../../src/config/known-prices';
import { parseRunConfig, RunConfigSchema } from '../../src/config/run-config';
import { StepStats } from '../../src/steps/step-summary';
import type { RewardRecord } from '../../src/contract/reward-record';

const base = { steps: 1, rollouts: { type: 'directory', path: '/r' } };
const judge = (model: string) => ({ provider: 'bedrock', model, rubric: { criteria: [{ id: 'ok', description: 'right' }] } });

describe('known list prices', () => {
  it('knows the seeds’ judges under any profile prefix or ARN, Nova 2 Lite included; not an unknown model', () => {
    expect(knownPrice('us.anthropic.claude-sonnet-4-20250514-v1:0')).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
    expect(knownPrice('amazon.nova-pro-v1:0')).toEqual({ inputPerMTok: 0.8, outputPerMTok: 3.2 });
    expect(knownPrice('global.amazon.nova-2-lite-v1:0')).toEqual({ inputPerMTok: 0.3, outputPerMTok: 2.5 });
    expect(knownPrice('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0')).toEqual({ inputPerMTok: 0.3, outputPerMTok: 2.5 });
    expect(knownPrice('anthropic.claude-opus-4-1-20250805-v1:0')).toEqual({ inputPerMTok: 15, outputPerMTok: 75 });
    expect(knownPrice('meta.llama3-1-70b-instruct-v1:0')).toBeUndefined();
    // The run's own price wins.
    expect(priceFor({ 'amazon.nova-pro-v1:0': { inputPerMTok: 0.5, outputPerMTok: 2 } }, 'amazon.nova-pro-v1:0')).toEqual({ inputPerMTok: 0.5, outputPerMTok: 2 });
  });

  it('lets a budget run on a known model without prices; an unknown one still needs its price', () => {
    expect(() => parseRunConfig({ ...base, budgetUsd: 10, judge: judge('amazon.nova-pro-v1:0') })).not.toThrow();
    const unknown = RunConfigSchema.safeParse({ ...base, budgetUsd: 10, judge: judge('meta.llama3-1-70b-instruct-v1:0') });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ path: ['budgetUsd'] });
    expect(unknown.error?.issues[0]?.message).toMatch(/Arbiter knows no list price for it/);
  });

  it('prices a step at the list price when the run gave none, and at the run’s price when it did', () => {
    const stats = () => {
      const s = new StepStats();
      s.add({
        id: 'r1',
        status: 'scored',
        reward: 1,
        breakdown: { judge: 1 },
        judge: { provider: 'bedrock', model: 'amazon.nova-pro-v1:0', latencyMs: 1, attempts: 1, inputTokens: 1_000_000, outputTokens: 100_000 },
      } as unknown as RewardRecord);
      return s;
    };
    expect(stats().summary(1, 0).costUsd).toBeCloseTo(0.8 + 0.32, 6);
    expect(stats().summary(1, 0, { inputPerMTok: 1, outputPerMTok: 10 }).costUsd).toBeCloseTo(1 + 1, 6);
  });
});
