import { z } from 'zod';
import type { BriefReward } from './reward-record';

// What `arbiter serve` (or any caller) sends a run for its trainers' requests, and what the run
// answers. The run, not the service, owns what a request key means: it records each key with a
// hash of its content, numbers the steps, and answers a retry from what it recorded. Pure zod and
// types: safe in workflow code.

/** Rollouts per request the run takes inline; larger requests travel as a file (`path`). */
export const MAX_REQUEST_ROLLOUTS = 1000;

export const TrainerRequestSchema = z
  .object({
    /** The caller's idempotency key: the same key with other content is refused, never re-answered. */
    key: z.string().min(1).max(300),
    /** sha256 of the canonical JSON of the request's rollouts (contentHash in request-ledger.ts). */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    rollouts: z.array(z.unknown()).min(1).max(MAX_REQUEST_ROLLOUTS).optional(),
    /** A JSONL file of the rollouts, for requests too large to travel in history. */
    path: z.string().min(1).optional(),
    /** Pin the request to this step, alone (the `/steps/:step` route): ids stay as sent. */
    step: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((r) => (r.rollouts === undefined) !== (r.path === undefined), { message: 'give either rollouts or path, not both and not neither' });
export type TrainerRequest = z.infer<typeof TrainerRequestSchema>;

export const SubmitRequestsSchema = z
  .object({ requests: z.array(TrainerRequestSchema).min(1).max(1000) })
  .strict()
  .refine((r) => new Set(r.requests.map((q) => q.key)).size === r.requests.length, { message: 'requests: a key appears twice' });
export type SubmitRequests = z.infer<typeof SubmitRequestsSchema>;

/** A sample the run will not score, and why: answered with `reward: null`, never judged. */
export interface SampleRefusal {
  /** Position in the request. */
  index: number;
  reason: string;
}

/**
 * Where a request stands, as the run knows it:
 * - `accepted`: recorded, waiting for or in its step;
 * - `answered`: scored (rewards by the ids in the run's files) or refused whole (`failure`);
 * - `conflict`: the key was accepted earlier with other content;
 * - `unknown`: this execution of the run has not seen it (ask again with the Update).
 */
export type RequestStatus =
  | { key: string; state: 'accepted'; step?: number }
  | {
      key: string;
      state: 'answered';
      step?: number;
      /** Rewards by their id in the run's files (see idInRun); empty when the step was too large to answer inline. */
      rewards: BriefReward[];
      /** The step's rewards file (as the workers see it), when `rewards` could not travel inline. */
      file?: string;
      refused: SampleRefusal[];
      /** The whole request was refused (a failure type of failure-types.ts and its message). */
      failure?: { type: string; message: string };
      /** Answered from the ledger: an earlier execution scored it, nothing was judged for this sending. */
      fromLedger?: true;
      /**
       * Answered while the Update that sent it waited (`score-instant-steps-at-once`): judged for
       * this sending. Without it, an Update's answer came from an earlier sending.
       */
      fresh?: true;
    }
  | { key: string; state: 'conflict'; message: string }
  | { key: string; state: 'unknown' };

/** The id a request's rollout has in the run's step files: its own for a pinned request, else `<keyId>~<index>`. */
export function idInRun(keyId: string, pinned: boolean, ownId: string, index: number): string {
  return pinned ? ownId : `${keyId}~${index}`;
}

/** The run's Update reply and query answer: one status per key asked about, in order. */
export interface RequestStatuses {
  statuses: RequestStatus[];
}
