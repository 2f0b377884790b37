import { kendallTauB, meanOffset, spearmanRho } from '../../stats';
import { pick, withCI, type BootstrapOptions, type Interval } from './interval';

export interface RankAgreement {
  n: number;
  spearman: Interval | null;
  kendall: Interval | null;
}

export function rankAgreement(x: number[], y: number[], bootstrap: BootstrapOptions): RankAgreement | null {
  if (x.length < 3) return null;
  return {
    n: x.length,
    spearman: withCI(x.length, (idx) => spearmanRho(pick(x, idx), pick(y, idx)), bootstrap),
    kendall: withCI(x.length, (idx) => kendallTauB(pick(x, idx), pick(y, idx)), bootstrap),
  };
}

export interface GoldAgreement extends RankAgreement {
  /** Mean of judge − gold: positive is a lenient judge, negative a harsh one. */
  meanOffset: Interval | null;
}

export function goldAgreement(judge: number[], gold: number[], bootstrap: BootstrapOptions): GoldAgreement | null {
  const ranks = rankAgreement(judge, gold, bootstrap);
  if (!ranks) return null;
  return { ...ranks, meanOffset: withCI(judge.length, (idx) => meanOffset(pick(judge, idx), pick(gold, idx)), bootstrap) };
}
