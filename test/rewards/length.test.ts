import { describe, expect, it } from 'vitest';
import { lengthComponent, measureLength } from '../../src/rewards/components/length';
import { parseRewardConfig, type RewardConfigInput } from '../../src/config/reward-config';
import { rollout } from '../support/fixtures';

const lengthConfig = (length: RewardConfigInput['length']) => parseRewardConfig({ length }).length;
const chars = (n: number) => 'x'.repeat(n);
const valueAt = (n: number, config = lengthConfig({ min: 100, max: 200 })) =>
  lengthComponent(rollout('r', { response: chars(n) }), config).value;

describe('measureLength', () => {
  it('counts code points and whitespace-separated words', () => {
    expect(measureLength('héllo 🙂 世界', 'chars')).toBe(10);
    expect(measureLength('  one\ttwo\n three  ', 'words')).toBe(3);
    expect(measureLength('', 'words')).toBe(0);
    expect(measureLength('', 'chars')).toBe(0);
  });
});

describe('lengthComponent', () => {
  it('is 1 anywhere inside [min, max], bounds included', () => {
    expect(valueAt(100)).toBe(1);
    expect(valueAt(150)).toBe(1);
    expect(valueAt(200)).toBe(1);
  });

  it('decays linearly above max to 0 at tolerance x max', () => {
    // band = 0.5 x 200 = 100 chars
    expect(valueAt(201)).toBeCloseTo(0.99, 12);
    expect(valueAt(250)).toBeCloseTo(0.5, 12);
    expect(valueAt(275)).toBeCloseTo(0.25, 12);
    expect(valueAt(300)).toBe(0);
    expect(valueAt(1000)).toBe(0);
  });

  it('decays linearly below min to 0 at tolerance x min', () => {
    // band = 0.5 x 100 = 50 chars
    expect(valueAt(99)).toBeCloseTo(0.98, 12);
    expect(valueAt(75)).toBeCloseTo(0.5, 12);
    expect(valueAt(50)).toBe(0);
    expect(valueAt(0)).toBe(0);
  });

  it('uses the configured tolerance', () => {
    const wide = lengthConfig({ min: 100, max: 200, tolerance: 1 });
    expect(valueAt(300, wide)).toBe(0.5);
    expect(valueAt(0, wide)).toBe(0);
    expect(valueAt(50, wide)).toBe(0.5);
    const hard = lengthConfig({ max: 200, tolerance: 0 });
    expect(valueAt(200, hard)).toBe(1);
    expect(valueAt(201, hard)).toBe(0);
  });

  it('has no upper bound without max, and a bare min of 0 accepts the empty response', () => {
    expect(valueAt(1_000_000, lengthConfig({ min: 10 }))).toBe(1);
    expect(valueAt(0, lengthConfig({ max: 10 }))).toBe(1);
  });

  it('notes the measured length and the bound crossed', () => {
    const config = lengthConfig({ unit: 'words', min: 3, max: 5 });
    expect(lengthComponent(rollout('r', { response: '' }), config)).toEqual({ value: 0, note: '0 words < min 3' });
    expect(lengthComponent(rollout('r', { response: 'a b c d e f' }), config)).toEqual({
      value: 0.6,
      note: '6 words > max 5',
    });
    expect(lengthComponent(rollout('r', { response: 'a b c d' }), config)).toEqual({ value: 1 });
  });
});
