import type { Rollout } from '../config/rollout';
import type { RunConfigInput } from '../config/run-config';
import { WorkflowNotFoundError } from '@temporalio/client';
import { HttpError, isStepTaken } from './http-error';
import type { RunGateway, ScoredStep, ServedReward, StepResult } from './run-gateway';

export interface BatchingOptions {
  /** How long the first request of a batch waits for others to join it. */
  windowMs: number;
  /** A batch is sent at once when it holds this many rollouts. */
  maxRollouts: number;
  /** Step submissions in flight per run (Temporal allows 10 in-flight Updates per workflow). */
  maxInFlight: number;
  /**
   * A flush spreads the queue over as many steps as it takes to have this many in flight (each
   * up to maxRollouts; one at least): with two steps submitted, the run judges one while it
   * checkpoints the other (workflows/judge-ahead.ts), so a judge at its quota does not wait for
   * the checkpoint, the answers and the trainer's next requests. More would cut steps smaller,
   * and each step costs the same workflow and file work however few rollouts it holds.
   */
  spreadOver: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { windowMs: 50, maxRollouts: 512, maxInFlight: 4, spreadOver: 2 };

/** A caller's answer: the step its rollouts were scored in and its own rewards, in its order. */
export interface CallerRewards {
  step: number;
  summary: StepResult['summary'];
  rewards: ServedReward[];
  /** True when this answer was found, not judged: a retry of a request already scored. */
  replayed: boolean;
}

/** Rollout ids inside a merged step: the request's key, then the caller's index. */
const SEP = '~';
const MAX_KEYS = 100_000;

interface Waiting {
  key: string;
  rollouts: Rollout[];
  resolve: (r: StepResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Merges concurrent requests for one run into one step submission and hands each caller its own
 * rewards. Each request has a key (its requestId, or a hash of its body): a request whose key is
 * known gets the answer of the first, in flight or done, and nothing is judged again.
 */
export class StepBatcher {
  private queue: Waiting[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private next: Promise<number> | undefined;
  /** The highest step number this batcher sent. */
  private highest = -1;
  private known = new Map<string, Promise<CallerRewards>>();
  /** Keys found in the run's rewards files (a restart of the service): key -> its step. */
  private fromArtifacts: Promise<Map<string, ScoredStep>> | undefined;
  /** Steps this batcher submitted, as a count (for tests and logs). */
  submissions = 0;

  constructor(
    private readonly gateway: RunGateway,
    private readonly runId: string,
    private readonly options: BatchingOptions,
    private readonly runTemplate: RunConfigInput | undefined,
  ) {}

  /** The rewards of `rollouts` (ids unique within the request), judged once per key. */
  rewards(key: string, rollouts: Rollout[]): Promise<CallerRewards> {
    const known = this.known.get(key);
    if (known) return known.then((r) => ({ ...r, replayed: true }));
    const answer = this.answer(key, rollouts);
    this.known.set(key, answer);
    if (this.known.size > MAX_KEYS) this.known.delete(this.known.keys().next().value!);
    answer.catch(() => this.known.delete(key)); // a failed request may be sent again
    return answer;
  }

  private async answer(key: string, rollouts: Rollout[]): Promise<CallerRewards> {
    const ids = rollouts.map((_, i) => `${key}${SEP}${i}`);
    const earlier = (await this.artifactKeys()).get(key);
    if (earlier !== undefined) {
      const records = await this.gateway.readRewards(earlier.file);
      const byId = new Map((records ?? []).map((r) => [r.id, r]));
      if (ids.every((id) => byId.has(id))) {
        return {
          step: earlier.step,
          summary: earlier.summary,
          replayed: true,
          rewards: rollouts.map((r, i) => {
            const rec = byId.get(ids[i]!)!;
            return { id: r.id, reward: rec.reward, status: rec.status, flags: rec.flags, breakdown: rec.breakdown };
          }),
        };
      }
    }
    const merged = rollouts.map((r, i) => ({ ...r, id: ids[i]! }));
    const result = await new Promise<StepResult>((resolve, reject) => this.enqueue({ key, rollouts: merged, resolve, reject }));
    return {
      step: result.step,
      summary: result.summary,
      replayed: false,
      rewards: rollouts.map((r, i) => {
        const got = result.rewards.get(ids[i]!);
        if (!got) throw new HttpError(500, 'reward_missing', `step ${result.step} has no reward for rollout ${r.id}`);
        return { ...got, id: r.id };
      }),
    };
  }

  private enqueue(w: Waiting): void {
    this.queue.push(w);
    this.queued += w.rollouts.length;
    if (this.queued >= this.options.maxRollouts) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // 64 closed-loop single-sample callers make two steps of 32, not one of 64 that the run
    // would checkpoint with the judge idle while every caller waits for it. The steps already
    // in flight count towards spreadOver.
    const spread = Math.max(1, Math.min(this.options.spreadOver, this.options.maxInFlight) - this.inFlight);
    const share = Math.min(this.options.maxRollouts, Math.ceil(this.queued / spread));
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch: Waiting[] = [];
      let n = 0;
      while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.rollouts.length <= share)) {
        const w = this.queue.shift()!;
        batch.push(w);
        n += w.rollouts.length;
      }
      this.queued -= n;
      this.inFlight++;
      this.send(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.flush();
      });
    }
  }

  private async send(batch: Waiting[]): Promise<void> {
    const rollouts = batch.flatMap((w) => w.rollouts);
    try {
      let result: StepResult | undefined;
      for (let attempt = 0; !result; attempt++) {
        const step = await this.takeStep();
        try {
          this.submissions++;
          result = await this.gateway.submitStep(this.runId, step, rollouts);
        } catch (err) {
          this.submissions--;
          // Another caller (a trainer, another service) took that number: ask the run again.
          if (!isStepTaken(err) || attempt >= 5) throw err;
          this.next = undefined;
        }
      }
      for (const w of batch) w.resolve(result);
    } catch (err) {
      // A refused or failed step stays the run's next one: ask the run again before numbering another.
      this.next = undefined;
      for (const w of batch) w.reject(err);
    }
  }

  /** The next step number: asked of the run once, then counted here (never twice the same). */
  private takeStep(): Promise<number> {
    const mine = this.next ?? this.askRun();
    const following = mine.then((step) => step + 1);
    following.catch(() => {});
    this.next = following;
    return mine.then(
      (step) => {
        this.highest = Math.max(this.highest, step);
        return step;
      },
      (err) => {
        if (this.next === following) this.next = undefined;
        throw err;
      },
    );
  }

  private async askRun(): Promise<number> {
    try {
      return Math.max(await this.gateway.nextStep(this.runId), this.highest + 1);
    } catch (err) {
      // A run the service will start with its first submission begins at the template's first step.
      if (err instanceof WorkflowNotFoundError && this.runTemplate) return Math.max(this.runTemplate.firstStep ?? 1, this.highest + 1);
      throw err;
    }
  }

  /**
   * The keys of requests the run scored, however long ago: read once from the run's manifest
   * and rewards files (merged rollouts carry `<key>~<index>` as their id there).
   */
  private artifactKeys(): Promise<Map<string, ScoredStep>> {
    this.fromArtifacts ??= (async () => {
      const keys = new Map<string, ScoredStep>();
      let steps: ScoredStep[];
      try {
        steps = await this.gateway.scoredSteps(this.runId);
      } catch {
        return keys; // not started yet (nothing was scored), or a run folder this service cannot read
      }
      for (const step of steps) {
        for (const record of (await this.gateway.readRewards(step.file).catch(() => undefined)) ?? []) {
          const at = record.id.lastIndexOf(SEP);
          if (at > 0) keys.set(record.id.slice(0, at), step);
        }
      }
      return keys;
    })();
    return this.fromArtifacts;
  }
}
