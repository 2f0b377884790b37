import type { Thresholds } from '../validate-config';
import type { JudgeReport } from './report';

/** One threshold checked against one judge. */
export interface Gate {
  judge: string;
  /** The command-line flag that set it, e.g. `--min-kappa`. */
  flag: string;
  metric: string;
  threshold: number;
  /** null when the metric could not be measured: the gate fails, since nothing was shown. */
  value: number | null;
  ok: boolean;
}

interface GateRule {
  flag: string;
  metric: string;
  direction: 'min' | 'max';
  value(j: JudgeReport): number | null;
}

const RULES: Record<keyof Thresholds, GateRule> = {
  minKappa: { flag: '--min-kappa', metric: "Cohen's κ with human pass/fail", direction: 'min', value: (j) => j.human.pass?.kappa?.estimate ?? null },
  maxFlipRate: {
    flag: '--max-flip-rate',
    metric: 'worst per-criterion flip rate across repeats',
    direction: 'max',
    value: (j) => {
      const rates = [j.selfConsistency.overall, ...j.selfConsistency.criteria].map((c) => c.flipRate?.estimate).filter((r): r is number => r !== undefined);
      return rates.length ? Math.max(...rates) : null;
    },
  },
  maxAttackPass: {
    flag: '--max-attack-pass',
    metric: 'worst attack false-pass rate',
    direction: 'max',
    value: (j) => {
      const rates = j.bias.attacks.map((a) => a.rate?.rate).filter((r): r is number => r !== undefined);
      return rates.length ? Math.max(...rates) : null;
    },
  },
  minSpearman: { flag: '--min-spearman', metric: 'Spearman ρ with gold scores', direction: 'min', value: (j) => j.gold?.spearman?.estimate ?? null },
  maxOffset: {
    flag: '--max-offset',
    metric: '|mean offset| from gold scores',
    direction: 'max',
    value: (j) => (j.gold?.meanOffset ? Math.abs(j.gold.meanOffset.estimate) : null),
  },
  maxPositionBias: {
    flag: '--max-position-bias',
    metric: '|first-position pick rate − 0.5|',
    direction: 'max',
    value: (j) => ('firstPositionRate' in j.positionBias && j.positionBias.firstPositionRate ? Math.abs(j.positionBias.firstPositionRate.estimate - 0.5) : null),
  },
  maxLengthCorrelation: {
    flag: '--max-length-correlation',
    metric: '|Spearman ρ of score with length|',
    direction: 'max',
    value: (j) => (j.bias.length?.spearman ? Math.abs(j.bias.length.spearman.estimate) : null),
  },
};

export const THRESHOLD_FLAGS = Object.fromEntries(Object.entries(RULES).map(([key, rule]) => [key, rule.flag])) as Record<keyof Thresholds, string>;

export function checkGates(judges: readonly JudgeReport[], thresholds: Thresholds): Gate[] {
  const gates: Gate[] = [];
  for (const [key, threshold] of Object.entries(thresholds) as [keyof Thresholds, number | undefined][]) {
    if (threshold === undefined) continue;
    const rule = RULES[key];
    for (const judge of judges) {
      const value = rule.value(judge);
      const ok = value !== null && (rule.direction === 'min' ? value >= threshold : value <= threshold);
      gates.push({ judge: judge.name, flag: rule.flag, metric: rule.metric, threshold, value, ok });
    }
  }
  return gates;
}
