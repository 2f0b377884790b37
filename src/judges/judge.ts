import type { Rollout } from '../config/rollout';
import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';

export interface JudgeUsage {
  /** Input tokens billed at the full input price (Bedrock leaves cached tokens out of this). */
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (Bedrock `cacheReadInputTokens`). */
  cacheReadInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (Bedrock `cacheWriteInputTokens`). */
  cacheWriteInputTokens?: number;
}

/** The sum of two usages; cache fields appear only when either side has them. */
export function addUsage(a: JudgeUsage, b: JudgeUsage): JudgeUsage {
  const sum: JudgeUsage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  const read = (a.cacheReadInputTokens ?? 0) + (b.cacheReadInputTokens ?? 0);
  const write = (a.cacheWriteInputTokens ?? 0) + (b.cacheWriteInputTokens ?? 0);
  if (read > 0) sum.cacheReadInputTokens = read;
  if (write > 0) sum.cacheWriteInputTokens = write;
  return sum;
}

export interface CriterionVerdict {
  id: string;
  pass: boolean;
  evidence: string;
}

/** What judging something cost: tokens, time, and model calls made (failed ones and re-asks included). */
export interface JudgeCost {
  usage: JudgeUsage;
  latencyMs: number;
  attempts: number;
}

export type Judgement =
  | ({ ok: true; score: number; rationale: string; criteria: CriterionVerdict[] } & JudgeCost)
  | ({
      ok: false;
      reason: JudgeFailureReason;
      message: string;
      /** False when trying the same call again cannot help (e.g. an unknown model id). */
      retryable?: boolean;
    } & JudgeCost);

/** Scores one rollout on its own (rubric mode). */
export interface Judge {
  readonly provider: string;
  readonly model: string;
  judge(rollout: Rollout, signal?: AbortSignal): Promise<Judgement>;
}
