import type { RewardRecord } from '../contract/reward-record';
import { cohensKappa } from '../stats/kappa';

/** One rubric criterion across two versions, over the rollouts both versions scored. */
export interface CriterionDiff {
  id: string;
  /** Rollouts judged on this criterion in both versions; 0 when it is in one version's rubric only. */
  judged: number;
  /** Pass rate in each version over the rollouts it judged on this criterion (null: not in that version's rubric). */
  passRateA: number | null;
  passRateB: number | null;
  /** Verdicts that turned, over `judged`. */
  toFail: number;
  toPass: number;
  /** Cohen's κ of the two versions' verdicts (null: undefined, see src/stats/README.md, or not in both). */
  kappa: number | null;
}

type Pair = { a: RewardRecord; b: RewardRecord };

function verdicts(record: RewardRecord): Map<string, boolean> {
  return new Map((record.judge.criteria ?? []).map((c) => [c.id, c.pass]));
}

/** Every criterion either version judged, the ones that moved most first (most verdicts turned, then the largest change of pass rate). */
export function criterionDiffs(pairs: readonly Pair[]): CriterionDiff[] {
  const ids = new Set<string>();
  const seen = { a: new Map<string, [number, number]>(), b: new Map<string, [number, number]>() };
  const both = new Map<string, { a: boolean[]; b: boolean[] }>();
  for (const { a, b } of pairs) {
    const va = verdicts(a);
    const vb = verdicts(b);
    for (const [side, v] of [['a', va], ['b', vb]] as const) {
      for (const [id, pass] of v) {
        ids.add(id);
        const [passed, judged] = seen[side].get(id) ?? [0, 0];
        seen[side].set(id, [passed + (pass ? 1 : 0), judged + 1]);
      }
    }
    for (const [id, passA] of va) {
      const passB = vb.get(id);
      if (passB === undefined) continue;
      const entry = both.get(id) ?? { a: [], b: [] };
      entry.a.push(passA);
      entry.b.push(passB);
      both.set(id, entry);
    }
  }
  const rate = (side: 'a' | 'b', id: string) => {
    const s = seen[side].get(id);
    return s ? s[0] / s[1] : null;
  };
  const diffs = [...ids].map((id): CriterionDiff => {
    const v = both.get(id) ?? { a: [], b: [] };
    const kappa = v.a.length === 0 ? Number.NaN : cohensKappa(v.a, v.b);
    return {
      id,
      judged: v.a.length,
      passRateA: rate('a', id),
      passRateB: rate('b', id),
      toFail: v.a.filter((p, i) => p && !v.b[i]).length,
      toPass: v.a.filter((p, i) => !p && v.b[i]).length,
      kappa: Number.isNaN(kappa) ? null : kappa,
    };
  });
  const moved = (d: CriterionDiff) => d.toFail + d.toPass;
  const rateChange = (d: CriterionDiff) => Math.abs((d.passRateB ?? 0) - (d.passRateA ?? 0));
  return diffs.sort((x, y) => moved(y) - moved(x) || rateChange(y) - rateChange(x) || x.id.localeCompare(y.id));
}
