import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CancelRequest,
  PauseRequest,
  ReconfigureRequest,
  ResumeRequest,
  SubmitRolloutsRequest,
} from '../src/config/controls';
import type { RunConfig } from '../src/config/run-config';
import type { RequestStatuses, SubmitRequests } from '../src/contract/trainer-requests';
import type { BriefReward } from '../src/contract/reward-record';
import type { StepSummary } from '../src/contract/step-summary';
import type { RunProgress } from './progress';

// The run's public interface: what the CLI, trainers and the Web UI can ask and send.

export interface ControlReply {
  status: RunProgress['status'];
  message: string;
}

export interface StepRewards {
  step: number;
  summary: StepSummary;
  /** Artifact path as the workers see it. */
  file: string;
  /** Inline rewards for small batches (submitRollouts with inline rollouts). */
  /** `reward` is null for `excluded` samples: there is no reward to train on. */
  rewards?: BriefReward[];
}

export interface ReviewOutcome {
  step: number;
  itemId: string;
  judgePass: boolean;
  humanPass: boolean;
}

export const progressQuery = defineQuery<RunProgress>('progress');
export const stepSummaryQuery = defineQuery<StepSummary | null, [number]>('stepSummary');
/** The config the run uses now, reconfigurations included. */
export const configQuery = defineQuery<RunConfig>('config');

export const pauseUpdate = defineUpdate<ControlReply, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<ControlReply, [ResumeRequest]>('resume');
export const cancelUpdate = defineUpdate<ControlReply, [CancelRequest]>('cancel');
export const reconfigureUpdate = defineUpdate<ControlReply, [ReconfigureRequest]>('reconfigure');
export const submitRolloutsUpdate = defineUpdate<StepRewards, [SubmitRolloutsRequest]>('submitRollouts');
/**
 * Trainer requests, each under its idempotency key with a hash of its content: recorded by the
 * run (a retry attaches, other content under a used key is a conflict) and numbered into steps by
 * it. Answers where each stands; `requestStatus` answers later.
 */
export const submitRequestsUpdate = defineUpdate<RequestStatuses, [SubmitRequests]>('submitRequests');
export const requestStatusQuery = defineQuery<RequestStatuses, [string[]]>('requestStatus');

/** Sent by a humanReview child each time a reviewer answers. */
export const reviewOutcomeSignal = defineSignal<[ReviewOutcome]>('reviewOutcome');

/** How far a judgeValidation has got. */
export interface ValidationProgress {
  validationId: string;
  phase: 'preparing' | 'judging' | 'measuring' | 'done';
  /** Judging activities planned (slices of items × judges × repeats) and finished. */
  units: number;
  unitsDone: number;
  items?: number;
  /** Judgements made (and failed) in finished slices. */
  judged: number;
  failed: number;
  /** Model calls of finished slices. */
  calls: number;
  passed?: boolean;
}

export const validationProgressQuery = defineQuery<ValidationProgress>('validationProgress');
