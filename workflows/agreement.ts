import { cohensKappaFromTable } from '../src/stats/kappa';
import type { Agreement } from './progress';

export function emptyAgreement(): Agreement {
  return { reviews: 0, agree: 0, accuracy: null, kappa: null, matrix: { jp_hp: 0, jp_hf: 0, jf_hp: 0, jf_hf: 0 } };
}

/**
 * Adds one human verdict next to the judge's and recomputes accuracy and Cohen's kappa, the one
 * in src/stats/kappa.ts. kappa is null where κ is undefined: no reviews yet, or the judge and
 * every reviewer gave every item the same verdict (chance agreement is total; see src/stats/README.md).
 */
export function addReview(a: Agreement, judgePass: boolean, humanPass: boolean): Agreement {
  const m = { ...a.matrix };
  if (judgePass && humanPass) m.jp_hp++;
  else if (judgePass) m.jp_hf++;
  else if (humanPass) m.jf_hp++;
  else m.jf_hf++;
  const n = m.jp_hp + m.jp_hf + m.jf_hp + m.jf_hf;
  const agree = m.jp_hp + m.jf_hf;
  const kappa = cohensKappaFromTable([
    [m.jp_hp, m.jp_hf],
    [m.jf_hp, m.jf_hf],
  ]);
  return { reviews: n, agree, accuracy: agree / n, kappa: Number.isFinite(kappa) ? kappa : null, matrix: m };
}
