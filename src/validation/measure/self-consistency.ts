import { stdDev } from '../../stats';
import type { RubricRecord } from '../judged-record';
import { finite, withCI, type BootstrapOptions, type Interval } from './interval';

export interface CriterionConsistency {
  id: string;
  /** Share of repeat verdicts that differ from the item's majority verdict. */
  flipRate: Interval | null;
  /** Chance that two repeats of one item disagree (unbiased over all pairs of repeats). */
  pairwiseDisagreement: number | null;
  items: number;
}

export interface SelfConsistency {
  repeats: number;
  /** Items with at least two successful repeats. */
  items: number;
  /** Pass/fail at the pass threshold, as a criterion named "(overall pass)". */
  overall: CriterionConsistency;
  criteria: CriterionConsistency[];
  /** Standard deviation of the score across an item's repeats: mean and max over items. */
  scoreSd: { mean: number | null; max: number | null };
}

/** How much a judge disagrees with itself when asked the same thing again. */
export function selfConsistency(
  byItem: ReadonlyMap<string, RubricRecord[]>,
  repeats: number,
  passThreshold: number,
  bootstrap: BootstrapOptions,
): SelfConsistency {
  const judged = [...byItem.values()]
    .map((records) => records.filter((r): r is Extract<RubricRecord, { ok: true }> => r.ok))
    .filter((records) => records.length >= 2);
  const criterionIds = [...new Set(judged.flatMap((records) => records.flatMap((r) => Object.keys(r.criteria))))].sort();
  const sds = judged.map((records) => stdDev(records.map((r) => r.score)));
  return {
    repeats,
    items: judged.length,
    overall: consistencyOf('(overall pass)', judged.map((records) => records.map((r) => r.score >= passThreshold)), bootstrap),
    criteria: criterionIds.map((id) =>
      consistencyOf(
        id,
        judged.map((records) => records.map((r) => r.criteria[id]).filter((v): v is boolean => v !== undefined)).filter((v) => v.length >= 2),
        bootstrap,
      ),
    ),
    scoreSd: { mean: sds.length ? finite(sds.reduce((a, b) => a + b, 0) / sds.length) : null, max: sds.length ? Math.max(...sds) : null },
  };
}

function consistencyOf(id: string, verdicts: boolean[][], bootstrap: BootstrapOptions): CriterionConsistency {
  const minority = verdicts.map((v) => {
    const passes = v.filter(Boolean).length;
    return Math.min(passes, v.length - passes);
  });
  const sizes = verdicts.map((v) => v.length);
  const flipRate = withCI(
    verdicts.length,
    (idx) => {
      let m = 0;
      let n = 0;
      for (const i of idx) {
        m += minority[i]!;
        n += sizes[i]!;
      }
      return n === 0 ? NaN : m / n;
    },
    bootstrap,
  );
  let disagreeing = 0;
  let pairs = 0;
  for (const v of verdicts) {
    const passes = v.filter(Boolean).length;
    disagreeing += passes * (v.length - passes);
    pairs += (v.length * (v.length - 1)) / 2;
  }
  return { id, flipRate, pairwiseDisagreement: pairs ? disagreeing / pairs : null, items: verdicts.length };
}
