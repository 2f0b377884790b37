import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';
import type { PairWinner } from '../judges/preference';

interface Cost {
  inputTokens: number;
  outputTokens: number;
  /** Model calls made, failed ones and re-asks included (0 when decided without the model). */
  attempts: number;
}

type Failure = { ok: false; reason: JudgeFailureReason | 'error'; message: string };

/** One judgement of an item (or attack) in rubric mode. */
export type RubricRecord = { id: string; repeat: number } & Cost &
  ({ ok: true; score: number; criteria: Record<string, boolean> } | Failure);

/** One comparison of an item's response (`a`, shown first in votes[0]) with its pair (`b`). */
export type PreferenceRecord = { id: string } & Cost &
  ({ ok: true; votes: [PairWinner, PairWinner]; winner: PairWinner; inconsistent: boolean } | Failure);

export type JudgedRecord = RubricRecord | PreferenceRecord;
