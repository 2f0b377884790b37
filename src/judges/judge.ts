import type { Rollout } from '../config/rollout';
import type { JudgeFailureReason } from '../contract/reward-record';

export interface JudgeUsage {
  inputTokens: number;
  outputTokens: number;
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
