import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';

/** What a step leaves in workflow history and the manifest: numbers, never rollout text. */
export interface StepSummary {
  step: number;
  count: number;
  scored: number;
  fallback: number;
  excluded: number;
  quarantined: number;
  fallbackRate: number;
  fallbackByReason: Partial<Record<JudgeFailureReason, number>>;
  /** p10 is absent in manifests written before it was added. */
  reward: { mean: number; std: number; min: number; p10?: number; p50: number; p90: number; max: number };
  componentMeans: Record<string, number>;
  /** Tokens paid for in this step (judge-cache hits cost nothing), input at the full input price. */
  inputTokens: number;
  outputTokens: number;
  /**
   * Input tokens of the same calls read from / written to the provider's prompt cache (Bedrock),
   * priced apart from inputTokens. Absent in summaries written before prompt caching.
   */
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  cached: number;
  /**
   * Judge questions asked in this step: each ask, re-ask of an unusable answer and recovery pass
   * (both orders of a preference pair). Retries after throttling, 5xx or a timeout are not
   * counted: GovernedChatModel makes them below the judge, unseen by it.
   */
  calls: number;
  /** Estimated from the run's price of the model, else its known list price (config/known-prices.ts); 0 when neither exists. */
  costUsd: number;
  /** Wall time of the step in the run, from its start to its checkpoint (set by the workflow). */
  durationMs?: number;
  /** The step's gold canaries against the judge (runs with a canary config only). */
  canary?: CanarySummary;
}

/** What a step's canaries say about its judge: numbers only, they go to history and the manifest. */
export interface CanarySummary {
  /** Canaries the judge gave a verdict on (a judge failure gives none). */
  n: number;
  /** Of those, the ones whose judge pass equals the gold pass. */
  correct: number;
  /** correct / n; null when n is 0. */
  accuracy: number | null;
  /** Cohen's κ of judge pass against gold pass; null when it is undefined: n is 0, or judge and gold gave every canary the same verdict (src/stats/README.md). */
  kappa: number | null;
  /** Canaries the judge failed on (throttled to the end, unparseable, ...). */
  failed: number;
  /** Per labelled criterion: how often the judge's verdict on it equals the gold one. */
  criteria: Record<string, { n: number; correct: number }>;
}
