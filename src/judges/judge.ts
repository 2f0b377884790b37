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

interface JudgementCost {
  usage: JudgeUsage;
  latencyMs: number;
  /** Model calls spent on this judgement, re-asks included. */
  attempts: number;
}

export type Judgement =
  | ({ ok: true; score: number; rationale: string; criteria: CriterionVerdict[] } & JudgementCost)
  | ({
      ok: false;
      reason: JudgeFailureReason;
      message: string;
      /** False when trying the same call again cannot help (e.g. an unknown model id). */
      retryable?: boolean;
    } & JudgementCost);

/** Scores one rollout on its own (rubric mode). */
export interface Judge {
  readonly provider: string;
  readonly model: string;
  judge(rollout: Rollout, signal?: AbortSignal): Promise<Judgement>;
}
