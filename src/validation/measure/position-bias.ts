import { cohensKappa } from '../../stats';
import type { ValidationItem } from '../dataset';
import type { PreferenceRecord } from '../judged-record';
import { finite, pick, withCI, type BootstrapOptions, type Interval } from './interval';

export interface PositionBias {
  /** Pairs compared successfully (each in both orders). */
  pairs: number;
  /** Of the decisive single-order verdicts, the share that picked whichever response was shown first (0.5 = no bias). */
  firstPositionRate: Interval | null;
  /** Of the pairs decisive in both orders, the share whose winner changed with the order. */
  flipRate: Interval | null;
  /** Share of pairs decisive in both orders: the coverage of flipRate (ties hide flips). */
  decisiveShare: number | null;
  /** The combined verdict against the human's preference, where one was given. */
  human: { pairs: number; agreement: number | null; kappa: number | null } | null;
}

/** Preference mode: does the judge follow the order the responses are shown in? */
export function positionBias(records: readonly PreferenceRecord[], items: ReadonlyMap<string, ValidationItem>, bootstrap: BootstrapOptions): PositionBias {
  const ok = records.filter((r): r is Extract<PreferenceRecord, { ok: true }> => r.ok);
  // votes[0]: a shown first, so 'a' is a first-position pick; votes[1]: b shown first.
  const firstPicks = ok.map((r) => Number(r.votes[0] === 'a') + Number(r.votes[1] === 'b'));
  const decisive = ok.map((r) => Number(r.votes[0] !== 'tie') + Number(r.votes[1] !== 'tie'));
  const bothDecisive = ok.map((r) => r.votes[0] !== 'tie' && r.votes[1] !== 'tie');
  const flipped = ok.map((r, i) => bothDecisive[i]! && r.votes[0] !== r.votes[1]);
  const ratio = (num: readonly number[], den: readonly number[]) => (idx: readonly number[]) => {
    const d = pick(den, idx).reduce((a, b) => a + b, 0);
    return d === 0 ? NaN : pick(num, idx).reduce((a, b) => a + b, 0) / d;
  };
  const labelled = ok.filter((r) => items.get(r.id)?.pair?.preferred !== undefined);
  const toWinner = { first: 'a', second: 'b', tie: 'tie' } as const;
  const humanWinners = labelled.map((r) => toWinner[items.get(r.id)!.pair!.preferred!]);
  const judgeWinners = labelled.map((r) => r.winner);
  return {
    pairs: ok.length,
    firstPositionRate: withCI(ok.length, ratio(firstPicks, decisive), bootstrap),
    flipRate: withCI(ok.length, ratio(flipped.map(Number), bothDecisive.map(Number)), bootstrap),
    decisiveShare: ok.length ? bothDecisive.filter(Boolean).length / ok.length : null,
    human: labelled.length
      ? {
          pairs: labelled.length,
          agreement: judgeWinners.filter((w, i) => w === humanWinners[i]).length / labelled.length,
          kappa: finite(cohensKappa(judgeWinners, humanWinners)),
        }
      : null,
  };
}
