import type { RewardRecord } from '../contract/reward-record';
import { cohensKappa } from '../stats/kappa';
import { spearmanRho } from '../stats/rank-correlation';
import { criterionDiffs, type CriterionDiff } from './criterion-diff';
import { isChange, shiftDistribution, type ShiftDistribution } from './shift-distribution';

// Pure: the CLI and the run report read the versions and hand their records here.

export interface DiffOptions {
  /** A reward at or above this passes (overall pass/fail); 0.5, as review items call a judgement a pass. */
  passThreshold: number;
  /** Histogram bin width of the shifts. */
  binWidth: number;
  /** How many flipped rollouts the list keeps (all are counted). */
  flipLimit: number;
}

export const DEFAULT_DIFF_OPTIONS: DiffOptions = { passThreshold: 0.5, binWidth: 0.1, flipLimit: 20 };

/** Two versions over one set of rollouts (a step, or the whole run). */
export interface Comparison {
  /** Rollouts in both versions. */
  rollouts: number;
  /** Of those, scored in both: the only ones whose rewards are compared as numbers. */
  compared: number;
  /** Compared rollouts whose reward changed. */
  changed: number;
  /** Mean of B − A over the compared rollouts (null with none). */
  meanShift: number | null;
  meanAbsShift: number | null;
  shifts: ShiftDistribution;
  /** Spearman's ρ of the compared rewards (null when undefined: fewer than two, or one side constant). */
  spearman: number | null;
  /** Overall pass/fail (reward ≥ passThreshold) of the compared rollouts: how many pass in each, how many turned, and κ. */
  passFail: { passA: number; passB: number; toFail: number; toPass: number; kappa: number | null };
  criteria: CriterionDiff[];
  /** Rollouts fallback or excluded in either version, by `<status in A>→<status in B>`: counted, never compared as numbers. */
  apart: Record<string, number>;
  /** Rollout ids in one version only. */
  onlyInA: number;
  onlyInB: number;
}

/** A compared rollout whose overall pass/fail differs between the versions. */
export interface Flip {
  step: number;
  id: string;
  rewardA: number;
  rewardB: number;
  /** Filled by the caller that can find the rollout's texts: the file and line that hold them. */
  texts?: { file: string; line: number };
}

export interface VersionDiff {
  a: string;
  b: string;
  options: DiffOptions;
  overall: Comparison;
  steps: (Comparison & { step: number })[];
  /** Steps checkpointed in one version only (a re-judge of a step range leaves the others out). */
  stepsOnlyInA: number[];
  stepsOnlyInB: number[];
  /** The flips with the largest shifts first, at most options.flipLimit of them; flipsTotal counts all. */
  flips: Flip[];
  flipsTotal: number;
}

type Matched = { step: number; a: RewardRecord; b: RewardRecord };

export function diffVersions(
  a: { version: string; steps: ReadonlyMap<number, RewardRecord[]> },
  b: { version: string; steps: ReadonlyMap<number, RewardRecord[]> },
  options: DiffOptions = DEFAULT_DIFF_OPTIONS,
): VersionDiff {
  const common = [...a.steps.keys()].filter((s) => b.steps.has(s)).sort((x, y) => x - y);
  const steps: VersionDiff['steps'] = [];
  const all: { matched: Matched[]; onlyInA: number; onlyInB: number } = { matched: [], onlyInA: 0, onlyInB: 0 };
  for (const step of common) {
    const part = match(step, a.steps.get(step)!, b.steps.get(step)!);
    steps.push({ step, ...compare(part.matched, part.onlyInA, part.onlyInB, options) });
    all.matched.push(...part.matched);
    all.onlyInA += part.onlyInA;
    all.onlyInB += part.onlyInB;
  }
  const flips = all.matched
    .filter(scoredBoth)
    .filter((m) => passes(m.a, options) !== passes(m.b, options))
    .map((m) => ({ step: m.step, id: m.a.id, rewardA: m.a.reward!, rewardB: m.b.reward! }))
    .sort((x, y) => Math.abs(y.rewardB - y.rewardA) - Math.abs(x.rewardB - x.rewardA) || x.step - y.step || x.id.localeCompare(y.id));
  return {
    a: a.version,
    b: b.version,
    options,
    overall: compare(all.matched, all.onlyInA, all.onlyInB, options),
    steps,
    stepsOnlyInA: [...a.steps.keys()].filter((s) => !b.steps.has(s)).sort((x, y) => x - y),
    stepsOnlyInB: [...b.steps.keys()].filter((s) => !a.steps.has(s)).sort((x, y) => x - y),
    flips: flips.slice(0, options.flipLimit),
    flipsTotal: flips.length,
  };
}

function match(step: number, a: RewardRecord[], b: RewardRecord[]): { matched: Matched[]; onlyInA: number; onlyInB: number } {
  const inB = new Map(b.map((r) => [r.id, r]));
  const matched = a.filter((r) => inB.has(r.id)).map((r) => ({ step, a: r, b: inB.get(r.id)! }));
  return { matched, onlyInA: a.length - matched.length, onlyInB: b.length - matched.length };
}

function scoredBoth(m: { a: RewardRecord; b: RewardRecord }): boolean {
  return m.a.status === 'scored' && m.b.status === 'scored' && m.a.reward !== null && m.b.reward !== null;
}

function passes(record: RewardRecord, options: DiffOptions): boolean {
  return record.reward! >= options.passThreshold;
}

function compare(matched: Matched[], onlyInA: number, onlyInB: number, options: DiffOptions): Comparison {
  const scored = matched.filter(scoredBoth);
  const apart: Record<string, number> = {};
  for (const m of matched) {
    if (scoredBoth(m)) continue;
    const key = `${m.a.status}→${m.b.status}`;
    apart[key] = (apart[key] ?? 0) + 1;
  }
  const rewardsA = scored.map((m) => m.a.reward!);
  const rewardsB = scored.map((m) => m.b.reward!);
  const shifts = scored.map((m, i) => rewardsB[i]! - rewardsA[i]!);
  const passA = scored.map((m) => passes(m.a, options));
  const passB = scored.map((m) => passes(m.b, options));
  const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);
  return {
    rollouts: matched.length,
    compared: scored.length,
    changed: shifts.filter(isChange).length,
    meanShift: mean(shifts),
    meanAbsShift: mean(shifts.map(Math.abs)),
    shifts: shiftDistribution(shifts, options.binWidth),
    spearman: orNull(spearmanRho(rewardsA, rewardsB)),
    passFail: {
      passA: passA.filter(Boolean).length,
      passB: passB.filter(Boolean).length,
      toFail: passA.filter((p, i) => p && !passB[i]).length,
      toPass: passA.filter((p, i) => !p && passB[i]).length,
      kappa: orNull(cohensKappa(passA, passB)),
    },
    criteria: criterionDiffs(scored),
    apart,
    onlyInA,
    onlyInB,
  };
}

/** JSON has no NaN: an undefined statistic leaves here as null (src/stats/README.md). */
function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
