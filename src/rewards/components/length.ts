import type { Rollout } from '../../config/rollout';
import type { LengthConfig } from '../../config/reward-config';
import type { ComponentResult } from './component-result';

/** Code points, not UTF-16 units, so a CJK or emoji answer is not counted double. */
export function measureLength(text: string, unit: LengthConfig['unit']): number {
  if (unit === 'words') return text.split(/\s+/u).filter((word) => word !== '').length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function decay(excess: number, bound: number, tolerance: number): number {
  const band = bound * tolerance;
  return band > 0 ? Math.max(0, 1 - excess / band) : 0;
}

/** 1 inside [min, max], falling linearly to 0 at `tolerance` x the bound beyond it. */
export function lengthComponent(rollout: Rollout, config: LengthConfig): ComponentResult {
  const { unit, min, max, tolerance } = config;
  const n = measureLength(rollout.response, unit);
  if (n < min) return { value: decay(min - n, min, tolerance), note: `${n} ${unit} < min ${min}` };
  if (max !== undefined && n > max) return { value: decay(n - max, max, tolerance), note: `${n} ${unit} > max ${max}` };
  return { value: 1 };
}
