import { describe, expect, it } from 'vitest';
import { confusionMatrix } from '../../src/stats/confusion';

describe('confusion matrix', () => {
  it('counts judge against human and derives the rates (the judge is the prediction, the human the truth)', () => {
    // judge:  T T T F F F T F
    // human:  T T F F F T T F
    const m = confusionMatrix([true, true, true, false, false, false, true, false], [true, true, false, false, false, true, true, false]);
    expect(m).toEqual({ tp: 3, fp: 1, tn: 3, fn: 1, n: 8, accuracy: 0.75, baseRate: 0.5, tpr: 0.75, fpr: 0.25 });
  });

  it('reports NaN, not 0, for a rate with no denominator', () => {
    const allPass = confusionMatrix([true, false], [true, true]);
    expect(allPass.fpr).toBeNaN();
    expect(allPass.tpr).toBe(0.5);
    const empty = confusionMatrix([], []);
    expect(empty.n).toBe(0);
    expect(empty.accuracy).toBeNaN();
    expect(empty.baseRate).toBeNaN();
  });

  it('shows why accuracy needs the base rate: a judge that passes everything scores 90 % on a 90 % base rate', () => {
    const human = Array.from({ length: 100 }, (_, i) => i < 90);
    const m = confusionMatrix(human.map(() => true), human);
    expect(m.accuracy).toBe(0.9);
    expect(m.baseRate).toBe(0.9);
    expect(m.fpr).toBe(1);
  });

  it('throws naming both lengths when the lists are not paired', () => {
    expect(() => confusionMatrix([true], [true, false])).toThrow(/judge list has 1 values but the human list has 2/);
  });
});
