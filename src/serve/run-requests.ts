import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfigInput } from '../config/run-config';
import { contentHash, keyIdOf, refuseAtEdge } from '../contract/request-ledger';
import type { BriefReward, RewardRecord } from '../contract/reward-record';
import { idInRun, MAX_REQUEST_ROLLOUTS, type RequestStatus, type TrainerRequest } from '../contract/trainer-requests';
import { requestStatusQuery, submitRequestsUpdate } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { RecentSamples } from '../stats/recent-samples';
import { HttpError, httpErrorOf } from './http-error';
import { UpdateRounds } from './update-rounds';
import { stepNumber } from '../contract/step-file-names';
import { joinLocation } from '../storage/location';
import { storeFor } from '../storage/stores';

/** One reward as the service hands it out: the number, whether to trust it, and why. */
export interface ServedReward {
  id: string;
  /** null when the sample was excluded or refused: there is no reward to train on. */
  reward: number | null;
  /** `scored`, `fallback`, `excluded`, or `refused` (never judged: `reason` says why). */
  status: string;
  flags: string[];
  breakdown?: Record<string, number>;
  reason?: string;
}

/** A caller's answer: the step its rollouts were scored in (none if all were refused) and its rewards, in its order. */
export interface CallerRewards {
  step: number | undefined;
  rewards: ServedReward[];
  /** The run had answered this request before this call: nothing was judged for it now. */
  replayed: boolean;
}

export interface RequestOptions {
  client: Client;
  taskQueue: string;
  /** Where requests over the inline limit are written (a folder the workers may read). */
  spillDir: string;
  /** Runs not yet started are started with this config (Update-with-Start). */
  runTemplate?: RunConfigInput;
  /** How long a caller waits for its answer before hearing `not_ready` (retry with the same key: it attaches). */
  answerTimeoutMs: number;
  /** How long the first request of a round waits for others to join it (update-rounds.ts). */
  windowMs: number;
  /** How often waiting requests ask the run where they stand. */
  pollMs: number;
  /** Updates in flight per run, only reached when a round outgrows one Update (Temporal admits 10 per workflow at once). */
  maxInFlight: number;
  /** Reads a rewards file the run names, for requests too large to be answered inline. */
  readRewards: (file: string) => Promise<RewardRecord[] | undefined>;
}

export const DEFAULT_REQUEST_TIMING = { answerTimeoutMs: 170_000, windowMs: 10, pollMs: 50, maxInFlight: 4 };

/**
 * An Update's requests, in bytes: under the run's own limit (MAX_INLINE_REQUESTS_BYTES, 512 KiB)
 * with room for the envelope, and under the 512 KiB at which Temporal warns of a large payload.
 */
const MAX_UPDATE_BYTES = 480 * 1024;
const MAX_UPDATE_REQUESTS = 1000;
/** A request larger than this travels as a file (its path in the Update), not inline. */
const MAX_INLINE_REQUEST_BYTES = 200 * 1024;

interface Pending {
  key: string;
  request: TrainerRequest;
  deadline: number;
  bytes: number;
  resolve: (s: RequestStatus) => void;
  reject: (e: unknown) => void;
}

/**
 * The service's way into one run. It holds no truth: each request goes to the run under its key
 * with a hash of its content, the run records it (or finds it: a retry to any service process
 * attaches), numbers it into a step and answers. The service only batches Updates (Temporal
 * admits a few at once per workflow), asks where waiting requests stand, and asks again when the
 * run does not know a request (a fresh execution after continue-as-new, a lost Update).
 */
export class RunRequests {
  private readonly rounds: UpdateRounds<Pending>;
  private readonly waiting = new Map<string, { resolve: (s: RequestStatus) => void }[]>();
  private polling = false;
  private closing = false;
  /** Updates this service sent (for tests and logs). */
  updates = 0;
  /**
   * Where a caller's time went lately, ms: until the run recorded its request (`recorded`), then
   * until its answer was known here (`answered`). What `bench:serve` prints to find the slow part.
   */
  readonly phases = { recorded: new RecentSamples(), answered: new RecentSamples() };

  constructor(
    private readonly runId: string,
    private readonly options: RequestOptions,
  ) {
    const { windowMs, maxInFlight } = options;
    this.rounds = new UpdateRounds({ windowMs, maxInFlight, maxBytes: MAX_UPDATE_BYTES, maxCount: MAX_UPDATE_REQUESTS }, (batch) => this.send(batch));
  }

  /**
   * The rewards of `rollouts` under `key`, answered by the run. `pin` sends them as that step,
   * alone, with their own ids (the `/steps/:step` route).
   */
  async rewards(key: string, rollouts: readonly unknown[], pin?: number): Promise<CallerRewards> {
    const deadline = Date.now() + this.options.answerTimeoutMs;
    const request = await this.requestOf(key, rollouts, pin);
    const keyId = keyIdOf(key);
    const sent = performance.now();
    let status = await this.admit(request, deadline);
    const recorded = performance.now();
    this.phases.recorded.add(recorded - sent);
    const answeredAtOnce = status.state === 'answered' && status.step !== undefined;
    for (;;) {
      if (status.state === 'answered') {
        this.phases.answered.add(performance.now() - recorded);
        // Answered in the Update that recorded it: judged for this sending only when the run says so.
        const replayed = (answeredAtOnce && status.fresh !== true) || status.fromLedger === true;
        return this.answerOf(status, keyId, rollouts, pin !== undefined, replayed);
      }
      if (status.state === 'conflict') throw new HttpError(409, 'idempotency_key_reused', status.message);
      if (this.closing) {
        throw new HttpError(503, 'service_stopping', 'this service is stopping: the run has the request; send it again with the same key (to another service, or to this one once it is back) to get its answer', { retryable: true });
      }
      if (Date.now() >= deadline) {
        throw new HttpError(503, 'not_ready', `not answered within ${this.options.answerTimeoutMs} ms: the run has the request; send it again with the same key to get its answer`, { retryable: true });
      }
      status = status.state === 'unknown' ? await this.admit(request, deadline) : await this.next(key, deadline);
    }
  }

  private async requestOf(key: string, rollouts: readonly unknown[], pin: number | undefined): Promise<TrainerRequest> {
    const hash = contentHash(rollouts);
    const sent = refuseAtEdge(rollouts);
    const base = { key, hash, ...(pin !== undefined ? { step: pin } : {}) };
    if (sent.length <= MAX_REQUEST_ROLLOUTS && Buffer.byteLength(JSON.stringify(sent)) <= MAX_INLINE_REQUEST_BYTES) return { ...base, rollouts: sent };
    // A large request travels as a file named for its content: a retry writes the same file.
    const name = pin !== undefined ? `step-${stepNumber(pin)}-${hash.slice(0, 12)}` : `request-${keyIdOf(key)}-${hash.slice(0, 12)}`;
    const path = joinLocation(this.options.spillDir, this.runId, `${name}.jsonl`);
    await storeFor(path).write(path, sent.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return { ...base, path };
  }

  private answerOf(
    status: Extract<RequestStatus, { state: 'answered' }>,
    keyId: string,
    rollouts: readonly unknown[],
    pinned: boolean,
    replayed: boolean,
  ): Promise<CallerRewards> | CallerRewards {
    if (status.failure) throw failureToHttp(status.failure.type, status.failure.message);
    if (status.file && status.rewards.length === 0) {
      return this.options.readRewards(status.file).then((records) => {
        if (!records) {
          throw new HttpError(500, 'rewards_unreadable', `step ${status.step} was scored but its rewards file ${status.file} cannot be read by the service: run the service where the run folder is visible`);
        }
        return { ...this.mapRewards(status, keyId, rollouts, pinned, records), replayed };
      });
    }
    return { ...this.mapRewards(status, keyId, rollouts, pinned, status.rewards), replayed };
  }

  private mapRewards(
    status: Extract<RequestStatus, { state: 'answered' }>,
    keyId: string,
    rollouts: readonly unknown[],
    pinned: boolean,
    records: readonly BriefReward[],
  ): Omit<CallerRewards, 'replayed'> {
    const byId = new Map(records.map((r) => [r.id, r]));
    const refused = new Map(status.refused.map((r) => [r.index, r.reason]));
    return {
      step: status.step,
      rewards: rollouts.map((sample, index) => {
        const ownId = String((sample as { id?: unknown })?.id ?? index);
        const reason = refused.get(index);
        if (reason !== undefined) return { id: ownId, reward: null, status: 'refused', flags: ['refused'], reason };
        const got = byId.get(idInRun(keyId, pinned, ownId, index));
        if (!got) return { id: ownId, reward: null, status: 'refused', flags: ['refused'], reason: `step ${status.step} holds no reward for it` };
        return { id: ownId, reward: got.reward, status: got.status, flags: got.flags, ...(got.breakdown ? { breakdown: got.breakdown } : {}) };
      }),
    };
  }

  // ---- Updates: requests grouped in rounds (update-rounds.ts) ----

  private admit(request: TrainerRequest, deadline: number): Promise<RequestStatus> {
    return new Promise((resolve, reject) => {
      const pending = { key: request.key, request, deadline, bytes: Buffer.byteLength(JSON.stringify(request)), resolve, reject };
      // A pinned request goes alone: a refusal of its step must not refuse other callers' requests.
      if (request.step !== undefined) this.rounds.alone([pending]);
      else this.rounds.add(pending);
    });
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      const statuses = await this.execute(
        batch.map((p) => p.request),
        Math.max(...batch.map((p) => p.deadline)),
      );
      for (const [i, p] of batch.entries()) p.resolve(statuses[i]!);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** One Update, retried while the run moves to a fresh history, until the callers' deadline. */
  private async execute(requests: TrainerRequest[], deadline: number): Promise<RequestStatus[]> {
    const { client } = this.options;
    // One id for this sending's retries (a reply lost on the way attaches to its Update in Temporal);
    // a later sending is a new Update, and the run answers it from what it recorded under each key.
    const updateId = `requests-${createHash('sha256').update(requests.map((r) => `${r.key}\0${r.hash}`).join('\n')).digest('hex').slice(0, 20)}-${randomUUID().slice(0, 8)}`;
    for (let attempt = 0; ; attempt++) {
      try {
        this.updates++;
        const reply = await client.withDeadline(Math.max(deadline, Date.now() + 1000), () => this.update(updateId, requests));
        return reply.statuses;
      } catch (err) {
        if (!isRetryable(err) || Date.now() >= deadline) throw httpErrorOf(err, this.runId);
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  private update(updateId: string, requests: TrainerRequest[]) {
    const { client, taskQueue, runTemplate } = this.options;
    const args: [{ requests: TrainerRequest[] }] = [{ requests }];
    if (!runTemplate) return client.workflow.getHandle(this.runId).executeUpdate(submitRequestsUpdate, { args, updateId });
    return client.workflow.executeUpdateWithStart(submitRequestsUpdate, {
      args,
      updateId,
      startWorkflowOperation: new WithStartWorkflowOperation(rftRun, {
        workflowId: this.runId,
        taskQueue,
        args: [{ ...runTemplate, runId: this.runId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A run that ended stays ended: its folder belongs to it.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `run ${this.runId}, fed by arbiter serve`,
      }),
    });
  }

  /**
   * The service is stopping: every caller waiting for its answer hears a retryable
   * `service_stopping` now rather than at its answer timeout, and nothing asks the run any more.
   * Its request is the run's already; a retry with the same key attaches, wherever it goes.
   */
  close(): void {
    this.closing = true;
    for (const key of [...this.waiting.keys()]) this.settle(key, { key, state: 'accepted' });
  }

  // ---- where waiting requests stand ----

  /** Resolves when the request's status is other than `accepted`, or at the deadline. */
  private next(key: string, deadline: number): Promise<RequestStatus> {
    return new Promise((resolve) => {
      if (this.closing) return resolve({ key, state: 'accepted' });
      const list = this.waiting.get(key) ?? [];
      list.push({ resolve });
      this.waiting.set(key, list);
      const timer = setTimeout(() => this.settle(key, { key, state: 'accepted' }), Math.max(0, deadline - Date.now()));
      timer.unref?.();
      void this.poll();
    });
  }

  private settle(key: string, status: RequestStatus): void {
    const list = this.waiting.get(key);
    if (!list) return;
    this.waiting.delete(key);
    for (const w of list) w.resolve(status);
  }

  /** One loop per run and process: asks the run about every waiting key at once. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiting.size > 0 && !this.closing) {
        await sleep(this.options.pollMs);
        const keys = [...this.waiting.keys()];
        try {
          const { statuses } = await this.options.client.workflow.getHandle(this.runId).query(requestStatusQuery, keys);
          for (const s of statuses) if (s.state !== 'accepted') this.settle(s.key, s);
        } catch (err) {
          // A run that is not there: every waiter hears it. Anything else (a worker restarting): ask again.
          if (err instanceof WorkflowNotFoundError) for (const key of keys) this.settle(key, { key, state: 'unknown' });
        }
      }
    } finally {
      this.polling = false;
    }
  }
}

/** A call the same request may succeed at a moment later: the run moving to a fresh history, a deadline, Temporal briefly away. */
function isRetryable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) return err.cause instanceof ApplicationFailure && err.cause.type === 'RunRollingOver';
  const http = httpErrorOf(err, '');
  return http.status === 503;
}

function failureToHttp(type: string, message: string): HttpError {
  return httpErrorOf(ApplicationFailure.create({ type, message, nonRetryable: true }), '');
}
