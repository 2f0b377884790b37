/** What one deterministic reward component says about one response. */
export interface ComponentResult {
  /** In [0, 1]; 1 is fully compliant. */
  value: number;
  /** Short reason, copied into the reward record's notes. */
  note?: string;
  /** Sets the whole reward to minReward (safety hits only). */
  veto?: boolean;
}
