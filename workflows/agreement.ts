import type { Agreement } from './progress';

export function emptyAgreement(): Agreement {
  return { reviews: 0, agree: 0, accuracy: null, kappa: null, matrix: { jp_hp: 0, jp_hf: 0, jf_hp: 0, jf_hf: 0 } };
}

/** Adds one human verdict next to the judge's and recomputes accuracy and Cohen's kappa. */
export function addReview(a: Agreement, judgePass: boolean, humanPass: boolean): Agreement {
  const m = { ...a.matrix };
  if (judgePass && humanPass) m.jp_hp++;
  else if (judgePass) m.jp_hf++;
  else if (humanPass) m.jf_hp++;
  else m.jf_hf++;
  const n = m.jp_hp + m.jp_hf + m.jf_hp + m.jf_hf;
  const agree = m.jp_hp + m.jf_hf;
  const observed = agree / n;
  const judgeYes = (m.jp_hp + m.jp_hf) / n;
  const humanYes = (m.jp_hp + m.jf_hp) / n;
  const expected = judgeYes * humanYes + (1 - judgeYes) * (1 - humanYes);
  // Kappa is undefined when chance agreement is total (everyone said the same thing).
  const kappa = expected === 1 ? null : (observed - expected) / (1 - expected);
  return { reviews: n, agree, accuracy: observed, kappa, matrix: m };
}
