import { ApplicationFailure, CancellationScope, condition, currentUpdateInfo, patched } from '@temporalio/workflow';
import type { RunConfig } from '../src/config/run-config';
import type { Admission } from '../src/contract/request-ledger';
import type { BriefReward } from '../src/contract/reward-record';
import {
  MAX_REQUEST_ROLLOUTS,
  SubmitRequestsSchema,
  type RequestStatus,
  type RequestStatuses,
  type SampleRefusal,
  type SubmitRequests,
  type TrainerRequest,
} from '../src/contract/trainer-requests';
import type { StepRewards } from './definitions';
import { currentExecution } from './execution';
import { runActivities } from './activity-policies';
import type { RefusedStep, StepSource } from './score-step';
import { PATCHES } from './patches';
import { activityFailureType, activityFailureMessage } from './step-failure';
import { scoresAtOnce } from './score-at-once';

export type { StepSource };

/** Largest step the run assembles from trainer requests, in rollouts (one request at least). */
export const MAX_ASSEMBLED_ROLLOUTS = 512;
/**
 * Answered requests the run keeps in memory: those of its last few steps (and the last few
 * thousand answered without a step). Older ones are found in the run's ledger when asked again,
 * so memory stays bounded however many requests an execution answers.
 */
const ANSWERED_STEPS_KEPT = 4;
const STEPLESS_ANSWERS_KEPT = 10_000;

/** Inline rollouts a `submitRollouts` Update may carry into history (256 KiB); more travel as a file. */
export const MAX_INLINE_SUBMISSION_BYTES = 256 * 1024;
/**
 * Inline requests a `submitRequests` Update may carry (512 KiB, where Temporal starts warning of
 * large payloads): the service sends every waiting caller's request in one Update per round.
 */
export const MAX_INLINE_REQUESTS_BYTES = 512 * 1024;

/** A request the run accepted and has not answered yet: what continue-as-new carries. */
export interface CarriedRequest {
  key: string;
  hash: string;
  keyId: string;
  pin: number | undefined;
  count: number;
  refused: SampleRefusal[];
}

export interface CarriedInbox {
  queued: CarriedRequest[];
  /** Steps the run numbered and filled from requests, not yet scored. */
  placed: { step: number; keys: string[] }[];
}

interface Entry extends CarriedRequest {
  state: 'admitting' | 'queued' | 'placed' | 'answered';
  step?: number;
  answer?: RequestStatus;
}

interface Explicit {
  /** What was sent (the rollouts as JSON, or the path): a resend of the same attaches, another is refused. */
  content: string;
  /** Set once staged. */
  source?: StepSource;
  /** Its step's rewards, or why the step was refused: what every Update that sent it returns. */
  result?: StepRewards | RefusedStep;
}

/**
 * The batches trainers hand the run, and the truth about them that must survive retries,
 * restarts, several services and continue-as-new:
 *
 * - explicit steps (`submitRollouts`: the trainer numbers the step);
 * - trainer requests (`submitRequests`, what `arbiter serve` sends): each recorded under its key
 *   with a hash of its content in the run's ledger, then numbered into steps by the run itself,
 *   so no step number is ever skipped or claimed twice.
 *
 * Every handler reserves what it claims before its first await, so two calls for one key or
 * step can never both stage or both be judged.
 */
export class StepInbox {
  private readonly explicit = new Map<number, Explicit>();
  private readonly requests = new Map<string, Entry>();
  /** Unpinned requests in arrival order, waiting for a step. */
  private queue: string[] = [];
  /** Pinned requests waiting for their step. */
  private readonly pins = new Map<number, string>();
  /** Steps a pinned request claimed, from its reservation on (before its admission finished). */
  private readonly pinsClaimed = new Set<number>();
  private readonly placed = new Map<number, { keys: string[]; source?: StepSource; assembling?: Promise<StepSource> }>();
  /** Continue-as-new is due: nothing new is accepted until the next execution. */
  rollingOver = false;
  /** Keys of answered requests, by the step that answered them (-1: none), oldest first. */
  private readonly answeredByStep = new Map<number, string[]>();
  /** Unpinned requests accepted and not yet in the ledger (`admit-requests-in-background`): the next admission takes them all. */
  private unadmitted: TrainerRequest[] = [];
  /** Keys accepted in the background whose admission has not been applied yet (waiting or in flight). */
  private readonly admittingInBackground = new Set<string>();
  private admitting: Promise<void> | undefined;

  constructor(
    private readonly run: {
      readonly config: RunConfig;
      readonly runId: string;
      readonly nextStep: number;
      readonly lastStep: number;
      /** Whether the loop takes steps now (running, not cancelled or ended). */
      takingSteps(): boolean;
    },
    carried: CarriedInbox | undefined,
  ) {
    const placedKeys = new Set((carried?.placed ?? []).flatMap((p) => p.keys));
    for (const r of carried?.queued ?? []) {
      const entry: Entry = { ...r, state: 'queued' };
      this.requests.set(r.key, entry);
      if (placedKeys.has(r.key)) entry.state = 'placed';
      else if (r.pin !== undefined) this.pins.set(r.pin, r.key);
      else this.queue.push(r.key);
      if (r.pin !== undefined) this.pinsClaimed.add(r.pin);
    }
    for (const { step, keys } of carried?.placed ?? []) {
      this.placed.set(step, { keys });
      for (const key of keys) this.requests.get(key)!.step = step;
    }
  }

  carried(): CarriedInbox {
    const waiting = (state: Entry['state']) => [...this.requests.values()].filter((e) => e.state === state);
    const plain = ({ key, hash, keyId, pin, count, refused }: Entry): CarriedRequest => ({ key, hash, keyId, pin, count, refused });
    return {
      queued: [...waiting('queued'), ...waiting('placed')].map(plain),
      placed: [...this.placed.entries()].map(([step, p]) => ({ step, keys: p.keys })),
    };
  }

  // ---- explicit steps (submitRollouts) ----

  /** Throws a typed failure unless an explicit step with this content may be accepted (or attached to). */
  checkExplicit(step: number, content: string): void {
    const held = this.explicit.get(step);
    if (held && held.content !== content) throw failure('StepTaken', `step ${step} was already submitted with other rollouts`);
    if (!held) {
      if (step < this.run.nextStep || step > this.run.lastStep) {
        throw failure('StepTaken', `step ${step} is not ahead (next step is ${this.run.nextStep}, last ${this.run.lastStep})`);
      }
      if (this.placed.has(step) || this.pinsClaimed.has(step)) throw failure('StepTaken', `step ${step} holds trainer requests already`);
    }
    this.refuseWhileRollingOver(` after step ${this.run.nextStep - 1}: send step ${step} again in a few seconds`);
  }

  /** Continue-as-new is due: the same call succeeds on the next execution, a moment later. */
  private refuseWhileRollingOver(then: string): void {
    if (this.rollingOver) throw failure('RunRollingOver', `the run is moving to a fresh history (continue-as-new)${then}`);
  }

  /** Reserves the step, stages its rollouts in a file of this update's own, then waits for its rewards. */
  async submitExplicit(step: number, content: string, stage: (tag: string) => Promise<string> | string): Promise<StepRewards> {
    let submission = this.explicit.get(step);
    if (!submission) {
      const reserved: Explicit = { content };
      this.explicit.set(step, reserved);
      submission = reserved;
      try {
        const file = await stage(currentUpdateInfo()?.id ?? 'update');
        reserved.source = { file, inline: !content.startsWith('path:') };
      } catch (err) {
        this.explicit.delete(step);
        throw err;
      }
    }
    const mine = submission;
    await condition(() => mine.result !== undefined || this.ended);
    const result = mine.result;
    if (!result) throw failure('RunEnded', `the run ended before step ${step} was scored`);
    if ('refused' in result) throw failure('StepRefused', result.refused);
    return result;
  }

  /** Staged explicit source for `step`, if any (what older runs waited for). */
  explicitSource(step: number): StepSource | undefined {
    return this.explicit.get(step)?.source;
  }

  get hasUnscoredExplicit(): boolean {
    return [...this.explicit.values()].some((e) => e.result === undefined);
  }

  ended = false;

  /** The run ends: requests still waiting hear it instead of waiting for a step that will not come. */
  end(message: string): void {
    this.ended = true;
    for (const entry of this.requests.values()) {
      // Those admitted by an Update's own handler hear it from the handler.
      if (entry.state === 'answered' || (entry.state === 'admitting' && !this.admittingInBackground.has(entry.key))) continue;
      this.answer(entry, { key: entry.key, state: 'answered', rewards: [], refused: entry.refused, failure: { type: 'RunEnded', message } });
    }
  }

  // ---- trainer requests (submitRequests) ----

  validateRequests(request: unknown): SubmitRequests {
    const parsed = SubmitRequestsSchema.safeParse(request);
    if (!parsed.success) throw failure('InvalidRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    this.refuseWhileRollingOver(': send the requests again in a moment');
    const bytes = JSON.stringify(parsed.data).length;
    if (bytes > MAX_INLINE_REQUESTS_BYTES) throw failure('InvalidRequest', `requests of ${bytes} bytes inline, over ${MAX_INLINE_REQUESTS_BYTES}: send large requests by path`);
    for (const r of parsed.data.requests) {
      if (r.step === undefined) continue;
      const entry = this.requests.get(r.key);
      if (entry && entry.hash === r.hash) continue; // a retry: attaches
      if (entry) throw failure('IdempotencyKeyReused', `request key ${JSON.stringify(r.key)} was used before for other content: send new content under a new key`);
      // A step behind the run: the ledger may know it (a retry whose answer left memory); the handler asks it.
      if (r.step < this.run.nextStep) continue;
      if (r.step > this.run.lastStep) {
        throw failure('StepTaken', `step ${r.step} is not ahead (next step is ${this.run.nextStep}, last ${this.run.lastStep})`);
      }
      if (this.explicit.has(r.step) || this.placed.has(r.step) || this.pins.has(r.step) || this.pinsClaimed.has(r.step)) {
        throw failure('StepTaken', `step ${r.step} was already submitted`);
      }
    }
    return parsed.data;
  }

  /**
   * Records each request (or finds it: a retry attaches to its first sending) and answers where
   * it stands. Returns once recorded, not once judged: callers then ask `statuses`.
   */
  async submitRequests(request: SubmitRequests): Promise<RequestStatuses> {
    const { requests } = SubmitRequestsSchema.parse(request);
    // Runs recorded before admitted every request in the handler, in a task-queue activity.
    const inBackground = patched(PATCHES.admitInBackground.id);
    // Answers this call only attaches to: an earlier sending's (the caller hears `replayed`).
    const answeredBefore = new Set(requests.filter((r) => this.requests.get(r.key)?.state === 'answered').map((r) => r.key));
    // Reserve first: a second call for the same key, from now on, attaches to this one.
    let mine: TrainerRequest[] = [];
    const conflicts = new Map<string, string>();
    const steptaken = new Map<string, string>();
    /** Pinned to a step the run has passed: only found in the ledger, never recorded anew. */
    const behind = requests.filter((r) => r.step !== undefined && r.step < this.run.nextStep && !this.requests.has(r.key)).map((r) => r.key);
    for (const r of requests) {
      if (this.requests.has(r.key)) continue;
      this.requests.set(r.key, { key: r.key, hash: r.hash, keyId: '', pin: r.step, count: 0, refused: [], state: 'admitting' });
      if (r.step !== undefined) this.pinsClaimed.add(r.step);
      mine.push(r);
    }
    if (inBackground) {
      // The Update in history is the request's record from now on (a retry attaches to it, a
      // replay restores it); the ledger learns it with the others waiting, in one local activity,
      // before any step holds it. Pinned requests claim a step: they are admitted before answering.
      for (const r of mine) if (r.step === undefined) this.admittingInBackground.add(r.key);
      this.unadmitted.push(...mine.filter((r) => r.step === undefined));
      mine = mine.filter((r) => r.step !== undefined);
      this.admitWaiting();
    }
    if (mine.length > 0) {
      let admissions;
      try {
        const activities = runActivities(this.run.config);
        const admit = inBackground ? activities.admitRequestsBeside : activities.admitRequests;
        admissions = await admit({
          outputDir: this.run.config.outputDir,
          runId: this.run.runId,
          execution: currentExecution(),
          requests: mine,
          ...(behind.length > 0 ? { lookupOnly: behind } : {}),
        });
      } catch (err) {
        for (const r of mine) this.forget(r);
        throw err;
      }
      for (const a of admissions) {
        const entry = this.requests.get(a.key)!;
        if (a.outcome === 'conflict') {
          this.forget(mine.find((m) => m.key === a.key)!);
          conflicts.set(a.key, a.message);
          continue;
        }
        if (a.outcome === 'unknown') {
          const r = mine.find((m) => m.key === a.key)!;
          this.forget(r);
          steptaken.set(a.key, `step ${r.step} is not ahead (next step is ${this.run.nextStep}, last ${this.run.lastStep})`);
          continue;
        }
        this.admitted(entry, a);
      }
    }
    const statusesNow = (): RequestStatuses => ({
      statuses: requests.map((r) => {
        const entry = this.requests.get(r.key);
        const conflict = conflicts.get(r.key);
        if (conflict !== undefined) return { key: r.key, state: 'conflict', message: conflict };
        const taken = steptaken.get(r.key);
        if (taken !== undefined) return { key: r.key, state: 'answered', rewards: [], refused: [], failure: { type: 'StepTaken', message: taken } };
        if (!entry) return { key: r.key, state: 'unknown' };
        if (entry.hash !== r.hash) {
          return { key: r.key, state: 'conflict', message: `request key ${JSON.stringify(r.key)} was used before for other content: send new content under a new key` };
        }
        return this.statusOf(entry);
      }),
    });
    if (!inBackground || !scoresAtOnce(this.run.config)) return statusesNow();
    // Steps are scored at once (score-at-once.ts): the answers come in this workflow task, so the
    // Update returns them and the caller asks for nothing afterwards. A run that stops taking
    // steps (paused, rolling over, ended) returns what stands; callers then ask as before.
    // A request pinned to a later step waits for the steps before it: the caller asks meanwhile.
    const later = (key: string) => (this.requests.get(key)?.pin ?? 0) > this.run.nextStep;
    const waited = statusesNow().statuses.filter((s) => s.state === 'accepted' && !later(s.key)).map((s) => s.key);
    const unanswered = (key: string) => (this.requests.get(key)?.state ?? 'answered') !== 'answered';
    await condition(() => !waited.some(unanswered) || this.rollingOver || !this.run.takingSteps());
    return {
      statuses: statusesNow().statuses.map((s) =>
        s.state === 'answered' && !answeredBefore.has(s.key) && s.fromLedger === undefined ? { ...s, fresh: true as const } : s,
      ),
    };
  }

  /** Whether every accepted request is in the ledger (continue-as-new carries only those). */
  get allAdmitted(): boolean {
    return this.admitting === undefined;
  }

  /**
   * Admits every request waiting for the ledger, in batches: one local activity at a time, and
   * the requests that arrive meanwhile go in the next. Each then joins the queue for a step, or is
   * answered from the ledger (an earlier execution's request sent again) or refused as a conflict.
   */
  private admitWaiting(): void {
    if (this.admitting || this.unadmitted.length === 0) return;
    this.admitting = (async () => {
      while (this.unadmitted.length > 0 && !this.ended) {
        const batch = this.unadmitted;
        this.unadmitted = [];
        let admissions: Admission[];
        try {
          admissions = await runActivities(this.run.config).admitRequestsBeside({
            outputDir: this.run.config.outputDir,
            runId: this.run.runId,
            execution: currentExecution(),
            requests: batch,
          });
        } catch (err) {
          // Out of attempts (a full disk, a folder another execution owns): the callers hear why.
          const failure = { type: activityFailureType(err) ?? 'AdmissionFailed', message: `the run could not record the request: ${activityFailureMessage(err)}` };
          for (const r of batch) {
            const entry = this.requests.get(r.key);
            if (entry?.state === 'admitting') this.answer(entry, { key: r.key, state: 'answered', rewards: [], refused: [], failure });
            this.admittingInBackground.delete(r.key);
          }
          continue;
        }
        for (const a of admissions) {
          const entry = this.requests.get(a.key);
          this.admittingInBackground.delete(a.key);
          // Answered meanwhile: the run ended.
          if (!entry || entry.state !== 'admitting') continue;
          if (a.outcome === 'conflict') this.answer(entry, { key: a.key, state: 'conflict', message: a.message });
          else if (a.outcome !== 'unknown') this.admitted(entry, a);
        }
      }
    })().finally(() => (this.admitting = undefined));
  }

  /** A request the ledger recorded (or knew): answered at once if it can be, else queued for a step. */
  private admitted(entry: Entry, a: Extract<Admission, { outcome: 'new' | 'known' }>): void {
    Object.assign(entry, { keyId: a.keyId, count: a.count, refused: a.refused });
    if (a.outcome === 'known' && a.step !== undefined && (a.rewards || a.file)) {
      const file = a.file ? { file: a.file } : {};
      this.answer(entry, { key: a.key, state: 'answered', step: a.step, rewards: a.rewards ?? [], refused: a.refused, ...file, fromLedger: true });
    } else if (a.count === 0) this.answer(entry, { key: a.key, state: 'answered', rewards: [], refused: a.refused });
    else this.enqueue(entry);
  }

  /** Where each request stands, as this execution knows it. */
  statuses(keys: string[]): RequestStatuses {
    return { statuses: keys.map((key) => {
      const entry = this.requests.get(key);
      return entry ? this.statusOf(entry) : { key, state: 'unknown' as const };
    }) };
  }

  private forget(request: TrainerRequest): void {
    this.requests.delete(request.key);
    if (request.step !== undefined) this.pinsClaimed.delete(request.step);
  }

  private statusOf(entry: Entry): RequestStatus {
    if (entry.answer) return entry.answer;
    return { key: entry.key, state: 'accepted', ...(entry.step !== undefined ? { step: entry.step } : {}) };
  }

  private enqueue(entry: Entry): void {
    entry.state = 'queued';
    if (entry.pin !== undefined) this.pins.set(entry.pin, entry.key);
    else this.queue.push(entry.key);
  }

  private answer(entry: Entry, status: RequestStatus): void {
    entry.state = 'answered';
    entry.answer = status;
    const step = status.state === 'answered' && status.step !== undefined ? status.step : -1;
    const keys = this.answeredByStep.get(step) ?? [];
    keys.push(entry.key);
    this.answeredByStep.set(step, keys);
    this.forgetOldAnswers(step);
  }

  /** Drops answers the ledger can give again, keeping memory bounded. */
  private forgetOldAnswers(latest: number): void {
    const stepless = this.answeredByStep.get(-1);
    if (stepless && stepless.length > STEPLESS_ANSWERS_KEPT) {
      for (const key of stepless.splice(0, stepless.length - STEPLESS_ANSWERS_KEPT)) this.dropIfAnswered(key);
    }
    for (const [step, keys] of this.answeredByStep) {
      if (step < 0 || step > latest - ANSWERED_STEPS_KEPT) continue;
      for (const key of keys) this.dropIfAnswered(key);
      this.answeredByStep.delete(step);
    }
  }

  private dropIfAnswered(key: string): void {
    if (this.requests.get(key)?.state === 'answered') this.requests.delete(key);
  }

  // ---- the run loop's side ----

  /** Whether `step` has rollouts to score now: staged explicit, placed or pinned requests, or any queued request. */
  ready(step: number): boolean {
    if (this.explicit.get(step)?.source) return true;
    if (this.placed.has(step) || this.pins.has(step)) return true;
    return this.queue.length > 0 && !this.explicit.has(step) && !this.pinsClaimed.has(step);
  }

  /**
   * The step's rollouts. Requests are numbered into the step here, before the first await: the
   * step's composition is the run's from this moment. `share` < 1 leaves part of the queue for
   * the step after, so it can be judged while this one checkpoints.
   */
  sourceOf(step: number, share = 1): Promise<StepSource> | StepSource {
    const explicit = this.explicit.get(step)?.source;
    if (explicit) return explicit;
    let placed = this.placed.get(step);
    if (!placed) {
      placed = { keys: this.take(step, share) };
      this.placed.set(step, placed);
      for (const key of placed.keys) Object.assign(this.requests.get(key)!, { state: 'placed', step });
    }
    if (placed.source) return placed.source;
    const p = placed;
    // One activity fewer per step: preparing the step assembles it (runs recorded before, as they ran).
    if (patched(PATCHES.assembleInPrepare.id)) {
      const inline = this.countOf(p.keys) <= MAX_REQUEST_ROLLOUTS;
      return (p.source = { assembleFrom: p.keys.map((k) => this.requests.get(k)!.keyId), inline, requests: p.keys });
    }
    // Not cancellable: a head start dropped while the step is assembled must not fail the run loop
    // that takes the same step next.
    p.assembling ??= CancellationScope.nonCancellable(() =>
      runActivities(this.run.config).assembleStep({
        outputDir: this.run.config.outputDir,
        runId: this.run.runId,
        execution: currentExecution(),
        step,
        keyIds: p.keys.map((k) => this.requests.get(k)!.keyId),
      }),
    )
      .then((file) => (p.source = { file, inline: this.countOf(p.keys) <= MAX_REQUEST_ROLLOUTS, requests: p.keys }))
      .finally(() => (p.assembling = undefined));
    return p.assembling;
  }

  private take(step: number, share: number): string[] {
    const pinned = this.pins.get(step);
    if (pinned !== undefined) {
      this.pins.delete(step);
      return [pinned];
    }
    const total = this.queue.reduce((n, k) => n + this.requests.get(k)!.count, 0);
    const budget = Math.min(MAX_ASSEMBLED_ROLLOUTS, Math.max(1, Math.ceil(total * share)));
    const keys: string[] = [];
    let n = 0;
    while (this.queue.length > 0) {
      const count = this.requests.get(this.queue[0]!)!.count;
      if (keys.length > 0 && n + count > budget) break;
      keys.push(this.queue.shift()!);
      n += count;
    }
    return keys;
  }

  private countOf(keys: string[]): number {
    return keys.reduce((n, k) => n + this.requests.get(k)!.count, 0);
  }

  /** Requests waiting for a step, in rollouts. */
  get queuedRollouts(): number {
    return this.queue.reduce((n, k) => n + this.requests.get(k)!.count, 0);
  }

  /** A scored step: a trainer waiting for it gets its rewards; each request its own. */
  stepScored(step: number, result: StepRewards): void {
    const explicit = this.explicit.get(step);
    if (explicit) explicit.result = result;
    // A resend of a step long scored is refused as behind the run; the last few attach.
    for (const s of this.explicit.keys()) if (s <= step - ANSWERED_STEPS_KEPT) this.explicit.delete(s);
    const placed = this.placed.get(step);
    if (!placed) return;
    this.placed.delete(step);
    const byKeyId = new Map<string, BriefReward[]>();
    for (const r of result.rewards ?? []) {
      const keyId = r.id.split('~')[0]!;
      const list = byKeyId.get(keyId);
      if (list) list.push(r);
      else byKeyId.set(keyId, [r]);
    }
    for (const key of placed.keys) {
      const entry = this.requests.get(key)!;
      const rewards = entry.pin !== undefined ? result.rewards ?? [] : byKeyId.get(entry.keyId) ?? [];
      const file = result.rewards === undefined ? { file: result.file } : {};
      this.answer(entry, { key, state: 'answered', step, rewards, refused: entry.refused, ...file });
    }
  }

  /** A step the run would not score: its trainers hear why, and its number stays the run's next. */
  stepRefused(step: number, refusal: RefusedStep): void {
    const explicit = this.explicit.get(step);
    if (explicit) {
      explicit.result = refusal;
      // Its trainers hear why; a corrected batch for the same step may come.
      this.explicit.delete(step);
    }
    const placed = this.placed.get(step);
    if (!placed) return;
    this.placed.delete(step);
    for (const key of placed.keys) {
      const entry = this.requests.get(key)!;
      this.answer(entry, { key, state: 'answered', step, rewards: [], refused: entry.refused, failure: { type: 'StepRefused', message: refusal.refused } });
    }
  }

  /** Whether the step in the loop was assembled from requests (refusing it must not pause a shared run). */
  isAssembled(step: number): boolean {
    return this.placed.has(step);
  }
}

function failure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
