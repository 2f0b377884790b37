import type { Rollout } from '../config/rollout';
import type { ComponentResult } from './components/component-result';
import { formatComponent } from './components/format';
import { languageComponent } from './components/language';
import { lengthComponent } from './components/length';
import { safetyComponent } from './components/safety';
import type { RewardComponentName, RewardConfig } from '../config/reward-config';

/** What to do with a sample whose judge failed after all retries. */
export type FallbackPolicy = { type: 'deterministic-only' } | { type: 'neutral'; value: number };

export interface CombineInput {
  /** The judge's score in [0, 1]; undefined when the judge failed. */
  judgeScore: number | undefined;
  rollout: Rollout;
  config: RewardConfig;
  /** Used only when judgeScore is undefined. */
  policy: FallbackPolicy;
}

export interface CombinedReward {
  /** In [minReward, maxReward]; undefined when nothing with a positive weight could be scored. */
  reward: number | undefined;
  /** Each computed component's value in [0, 1] before weighting, keyed by component name. */
  breakdown: Record<string, number>;
  /** `<component>: <note>` lines, e.g. `length: 412 words > max 300`. */
  notes: string[];
  vetoed: boolean;
}

type DeterministicComponent = Exclude<RewardComponentName, 'judge'>;

// Fixed order so breakdown keys come out the same way in every reward record.
const DETERMINISTIC: readonly DeterministicComponent[] = ['format', 'length', 'language', 'safety'];

function runComponent(name: DeterministicComponent, rollout: Rollout, config: RewardConfig): ComponentResult {
  switch (name) {
    case 'format':
      return formatComponent(rollout, config.format);
    case 'length':
      return lengthComponent(rollout, config.length);
    case 'language':
      return languageComponent(rollout, config.language);
    case 'safety':
      return safetyComponent(rollout, config.safety);
  }
}

/**
 * reward = minReward + (maxReward - minReward) x weighted mean of the components with a positive
 * weight. Zero-weight components are skipped entirely: they cost time and would only clutter the
 * breakdown. A safety veto wins over everything, including the neutral fallback.
 */
export function combineReward({ judgeScore, rollout, config, policy }: CombineInput): CombinedReward {
  if (judgeScore !== undefined && !(judgeScore >= 0 && judgeScore <= 1)) {
    throw new RangeError(`judge score must be in [0, 1], got ${judgeScore}`);
  }
  const { weights, minReward, maxReward } = config;
  const breakdown: Record<string, number> = {};
  const notes: string[] = [];
  let vetoed = false;
  let weighted = 0;
  let totalWeight = 0;

  if (judgeScore !== undefined && weights.judge > 0) {
    breakdown.judge = judgeScore;
    weighted += weights.judge * judgeScore;
    totalWeight += weights.judge;
  }
  for (const name of DETERMINISTIC) {
    const weight = weights[name];
    if (!(weight > 0)) continue;
    const result = runComponent(name, rollout, config);
    breakdown[name] = result.value;
    weighted += weight * result.value;
    totalWeight += weight;
    if (result.note) notes.push(`${name}: ${result.note}`);
    if (result.veto) vetoed = true;
  }

  let reward: number | undefined;
  if (vetoed) reward = minReward;
  else if (judgeScore === undefined && policy.type === 'neutral') reward = policy.value;
  else if (totalWeight > 0) reward = minReward + ((maxReward - minReward) * weighted) / totalWeight;
  return { reward, breakdown, notes, vetoed };
}
