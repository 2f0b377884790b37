import { describe, expect, it } from 'vitest';
import { RecentSamples } from '../../src/stats/recent-samples';

describe('RecentSamples', () => {
  it('gives quantiles of the last values only, once more arrive than it keeps', () => {
    const s = new RecentSamples(4);
    expect(s.quantile(0.5)).toBeNaN();
    for (const v of [100, 200, 1, 2, 3, 4]) s.add(v);
    expect(s.count).toBe(4);
    expect(s.quantile(0)).toBe(1);
    expect(s.quantile(1)).toBe(4);
    s.clear();
    s.add(7);
    expect(s.quantile(0.5)).toBe(7);
  });
});
