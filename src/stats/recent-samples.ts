import { nearestRankQuantile } from './quantile';

/**
 * The last `capacity` values of a measurement (a ring): percentiles of what happened lately, in
 * bounded memory however long a process runs.
 */
export class RecentSamples {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(capacity = 4096) {
    this.values = new Float64Array(capacity);
  }

  add(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.filled = Math.min(this.filled + 1, this.values.length);
  }

  get count(): number {
    return this.filled;
  }

  /** Nearest-rank quantile `p` (0..1) of the values kept; NaN when there are none. */
  quantile(p: number): number {
    if (this.filled === 0) return NaN;
    return nearestRankQuantile(this.values.slice(0, this.filled).sort(), p);
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
