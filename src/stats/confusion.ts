import { assertPaired } from './paired';

export interface ConfusionMatrix {
  /** judge pass, human pass */
  tp: number;
  /** judge pass, human fail */
  fp: number;
  /** judge fail, human fail */
  tn: number;
  /** judge fail, human pass */
  fn: number;
  n: number;
  /** (tp + tn) / n */
  accuracy: number;
  /** Share of items the human passed, (tp + fn) / n: accuracy means little without it. */
  baseRate: number;
  /** tp / (tp + fn): of what the human passed, how much the judge passed. */
  tpr: number;
  /** fp / (fp + tn): of what the human failed, how much the judge passed anyway. */
  fpr: number;
}

/**
 * Pass/fail confusion matrix of a judge against human labels (the human is the reference).
 * Rates whose denominator is zero are NaN, not 0: with no human passes the true positive rate
 * is unknown, and reporting 0 would read as "the judge misses everything".
 */
export function confusionMatrix(judge: readonly boolean[], human: readonly boolean[]): ConfusionMatrix {
  assertPaired('confusionMatrix', judge, human, ['judge', 'human']);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < judge.length; i++) {
    if (judge[i]) {
      if (human[i]) tp++;
      else fp++;
    } else if (human[i]) fn++;
    else tn++;
  }
  const n = judge.length;
  return {
    tp,
    fp,
    tn,
    fn,
    n,
    accuracy: ratio(tp + tn, n),
    baseRate: ratio(tp + fn, n),
    tpr: ratio(tp, tp + fn),
    fpr: ratio(fp, fp + tn),
  };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? Number.NaN : numerator / denominator;
}
