import { describe, expect, it } from 'vitest';
import { combineReward, type FallbackPolicy } from '../../src/rewards/formula';
import { parseRewardConfig, type RewardConfigInput } from '../../src/config/reward-config';
import { rollout } from '../support/fixtures';

const deterministicOnly: FallbackPolicy = { type: 'deterministic-only' };
const neutral: FallbackPolicy = { type: 'neutral', value: 0.5 };

// format: bare JSON with "answer" -> 1; fields missing -> partial; length: 10..20 chars.
const input: RewardConfigInput = {
  weights: { judge: 2, format: 1, length: 1, safety: 1 },
  format: { json: true, requiredFields: ['answer'] },
  length: { min: 10, max: 20 },
};
const config = parseRewardConfig(input);
const good = rollout('r', { response: '{"answer": "ok"}' }); // 16 chars
const tooLong = rollout('r', { response: '{"answer": "ok", "x": 12}' }); // 25 chars -> 1 - 5/10 = 0.5

describe('combineReward', () => {
  it('with only the judge weighted, the reward is the judge score', () => {
    const result = combineReward({ judgeScore: 0.7, rollout: good, config: parseRewardConfig({}), policy: neutral });
    expect(result).toEqual({ reward: 0.7, breakdown: { judge: 0.7 }, notes: [], vetoed: false });
  });

  it('takes the weighted mean of the positive-weight components', () => {
    const result = combineReward({ judgeScore: 0.4, rollout: tooLong, config, policy: neutral });
    expect(result.breakdown).toEqual({ judge: 0.4, format: 1, length: 0.5, safety: 1 });
    // (2 x 0.4 + 1 + 0.5 + 1) / 5
    expect(result.reward).toBeCloseTo(0.66, 12);
    expect(result.notes).toEqual(['length: 25 chars > max 20']);
    expect(result.vetoed).toBe(false);
  });

  it('maps the mean onto [minReward, maxReward]', () => {
    const wide = parseRewardConfig({ ...input, minReward: -1, maxReward: 1 });
    expect(combineReward({ judgeScore: 0.4, rollout: tooLong, config: wide, policy: neutral }).reward).toBeCloseTo(0.32, 12);
    expect(combineReward({ judgeScore: 1, rollout: good, config: wide, policy: neutral }).reward).toBe(1);
    expect(combineReward({ judgeScore: 0, rollout: rollout('r', { response: '' }), config: wide, policy: neutral }).reward).toBeCloseTo(
      // judge 0, format 0, length 0, safety 1 -> 1/5
      -1 + 2 * 0.2,
      12,
    );
  });

  it('does not compute or report zero-weight components', () => {
    const config = parseRewardConfig({ weights: { judge: 1, language: 0, length: 0 }, length: { max: 1 } });
    const result = combineReward({ judgeScore: 0.9, rollout: rollout('r', { response: 'far too long' }), config, policy: neutral });
    expect(result.breakdown).toEqual({ judge: 0.9 });
    expect(result.notes).toEqual([]);
  });

  it('leaves out a zero-weight judge even when it scored', () => {
    const config = parseRewardConfig({ weights: { judge: 0, length: 1 }, length: { max: 100 } });
    expect(combineReward({ judgeScore: 0.1, rollout: good, config, policy: neutral })).toEqual({
      reward: 1,
      breakdown: { length: 1 },
      notes: [],
      vetoed: false,
    });
  });

  it('vetoes to minReward on a safety hit, whatever the judge says', () => {
    const leaky = rollout('r', { response: '{"answer": "jane@acme.io"}' });
    const wide = parseRewardConfig({ ...input, minReward: -1 });
    expect(combineReward({ judgeScore: 1, rollout: leaky, config: wide, policy: neutral })).toEqual({
      reward: -1,
      breakdown: { judge: 1, format: 1, length: 0.4, safety: 0 },
      notes: ['length: 26 chars > max 20', 'safety: matched pii-email/email'],
      vetoed: true,
    });
  });

  it('without veto, a safety hit only weighs in as a 0', () => {
    const soft = parseRewardConfig({ ...input, safety: { veto: false } });
    const leaky = rollout('r', { response: 'jane@acme.io' }); // 12 chars, not JSON
    const result = combineReward({ judgeScore: 1, rollout: leaky, config: soft, policy: neutral });
    expect(result.vetoed).toBe(false);
    // (2 x 1 + 0 + 1 + 0) / 5
    expect(result.reward).toBeCloseTo(0.6, 12);
  });

  describe('when the judge failed', () => {
    it('deterministic-only averages the other components without the judge', () => {
      const result = combineReward({ judgeScore: undefined, rollout: tooLong, config, policy: deterministicOnly });
      expect(result.breakdown).toEqual({ format: 1, length: 0.5, safety: 1 });
      expect(result.reward).toBeCloseTo(2.5 / 3, 12);
    });

    it('deterministic-only gives no reward when only the judge is weighted', () => {
      const judgeOnly = parseRewardConfig({});
      expect(combineReward({ judgeScore: undefined, rollout: good, config: judgeOnly, policy: deterministicOnly })).toEqual({
        reward: undefined,
        breakdown: {},
        notes: [],
        vetoed: false,
      });
    });

    it('neutral uses the given value but still reports the deterministic breakdown', () => {
      const result = combineReward({ judgeScore: undefined, rollout: tooLong, config, policy: { type: 'neutral', value: 0.25 } });
      expect(result).toEqual({
        reward: 0.25,
        breakdown: { format: 1, length: 0.5, safety: 1 },
        notes: ['length: 25 chars > max 20'],
        vetoed: false,
      });
    });

    it('the safety veto still wins over both fallbacks', () => {
      const leaky = rollout('r', { response: `{"answer": "${['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('')}"}` });
      for (const policy of [neutral, deterministicOnly]) {
        const result = combineReward({ judgeScore: undefined, rollout: leaky, config, policy });
        expect(result.reward).toBe(0);
        expect(result.vetoed).toBe(true);
      }
    });
  });

  it('rejects a judge score outside [0, 1]', () => {
    for (const judgeScore of [-0.1, 1.5, Number.NaN]) {
      expect(() => combineReward({ judgeScore, rollout: good, config, policy: neutral })).toThrow(RangeError);
    }
  });
});
