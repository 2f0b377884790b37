import { CancellationScope, condition, patched } from '@temporalio/workflow';
import type { RunConfig } from '../src/config/run-config';
import type { RunState, StepSource } from './run-state';
import { judgeStep, type JudgedStep, type RefusedStep, type StepWatch } from './score-step';
import { PATCHES } from './patches';
import { scoresAtOnce } from './score-at-once';

/** A step whose judging began before the run loop reached it. */
export interface HeadStart {
  /** Workflow time its judging began: the step's duration counts from here. */
  started: number;
  judged: Promise<JudgedStep | RefusedStep>;
  /** Stops its chunks (their finished results stay on disk, for the step's next try). */
  cancel(): void;
  /** Gives the step's watch, once it is the run's current step, what happened so far, then each thing as it happens. */
  attach(watch: StepWatch): void;
}

interface Ahead extends HeadStart {
  step: number;
  config: RunConfig;
}

/**
 * Steps judged ahead at most: the next two. One keeps a judge at its quota busy while the loop
 * checkpoints; the second lets requests that arrive meanwhile start judging at once rather than
 * wait for the loop, which the reward service's closed-loop callers need after a burst.
 */
export const MAX_STEPS_AHEAD = 2;

/**
 * Judges the next steps a trainer already submitted while the run loop finishes the current one
 * (its last judge calls, its checkpoint, review and guards, the next update's round trips), so
 * a judge at its quota never waits between steps when several steps are submitted at once, as
 * `arbiter serve` does. Only judging moves ahead, MAX_STEPS_AHEAD steps at most: checkpoints,
 * summaries, rewards, reviews and guards stay in step order in the loop, which takes a head start
 * when it reaches its step. Head starts are dropped when the run pauses, ends or moves to a fresh
 * history, and not used when the config changed since they began: the step is then scored afresh
 * (preparing it again retires the old batch key, so no stale chunk writes into the new one).
 */
export class JudgeAhead {
  private watched: { step: number; stopped: boolean } | undefined;
  /** Head starts in step order, the first the step after the loop's. */
  private ahead: Ahead[] = [];

  constructor(private readonly run: RunState) {}

  /** While the loop scores the step before `step`: judge `step` (or the first step not yet ahead) as soon as it is submitted. */
  judgeOnceSubmitted(step: number): void {
    this.stopWatching();
    const next = (this.ahead.at(-1)?.step ?? step - 1) + 1;
    if (this.ahead.length >= MAX_STEPS_AHEAD) return;
    this.watch(next);
  }

  private watch(step: number): void {
    if (this.run.config.rollouts.type !== 'updates' || step > this.run.lastStep) return;
    const watched = { step, stopped: false };
    this.watched = watched;
    // Explicit steps once staged; trainer requests as soon as any wait (the run numbers them in).
    void condition(() => watched.stopped || this.run.submission(step) !== undefined || (this.mayJudge() && this.run.inbox.ready(step))).then(() => {
      if (watched.stopped || !this.mayJudge()) return;
      // Runs recorded before judging ahead scored each step after the last: they replay as they ran.
      if (!patched(PATCHES.overlapSubmittedSteps.id)) return;
      // Requests are scored at once when the loop reaches them (score-at-once.ts): nothing to judge ahead.
      if (this.run.submission(step) === undefined && scoresAtOnce(this.run.config)) return;
      // Runs recorded before judged one step ahead at most, of all the requests waiting.
      const further = patched(PATCHES.judgeTwoStepsAhead.id);
      // A judge that takes time (a model, at its quota) gets half the waiting requests while
      // another step may follow: answers then come back in smaller waves, and the next wave is
      // judged while this one is checkpointed. The offline judge takes none: fewer, larger steps.
      const split = further && this.ahead.length + 1 < MAX_STEPS_AHEAD && this.run.config.judge.provider !== 'offline-heuristic';
      const share = split ? 0.5 : 1;
      this.begin(step, this.run.submission(step) ?? this.run.inbox.sourceOf(step, share));
      if (further && this.ahead.length < MAX_STEPS_AHEAD) this.watch(step + 1);
    });
  }

  /** The head start of `step`, if it has one judged under the run's config as it is now (any others are dropped otherwise). */
  take(step: number): HeadStart | undefined {
    this.stopWatching();
    const first = this.ahead[0];
    if (first && first.step === step && first.config === this.run.config) return this.ahead.shift();
    this.dropAll();
    return undefined;
  }

  /** Nothing more goes on ahead: the run pauses, ends or continues as new. */
  abandon(): void {
    this.stopWatching();
    this.dropAll();
  }

  private dropAll(): void {
    for (const a of this.ahead) a.cancel();
    this.ahead = [];
  }

  private mayJudge(): boolean {
    const run = this.run;
    return run.progress.status === 'running' && !run.cancel && !run.ended && run.budgetAllowsJudgingAhead(this.ahead.length);
  }

  private begin(step: number, source: StepSource | Promise<StepSource>): void {
    const scope = new CancellationScope();
    const config = this.run.config;
    const watch = new HeldWatch();
    const judged =
      source instanceof Promise
        ? scope.run(async () => judgeStep(config, this.run.runId, step, await source, watch))
        : scope.run(() => judgeStep(config, this.run.runId, step, source, watch));
    // One chunk out of attempts stops the others, as in a step's own scope; the loop meets the
    // failure when it takes the step, and handles it as the step's.
    judged.catch(() => scope.cancel());
    this.ahead.push({ step, config, started: Date.now(), judged, cancel: () => scope.cancel(), attach: (to) => watch.attach(to) });
  }

  private stopWatching(): void {
    if (this.watched) this.watched.stopped = true;
    this.watched = undefined;
  }
}

/** A step's progress held while it is judged ahead, and passed on once the run loop reaches it. */
class HeldWatch implements StepWatch {
  private held: ((watch: StepWatch) => void)[] = [];
  private target: StepWatch | undefined;

  attach(target: StepWatch): void {
    this.target = target;
    for (const call of this.held) call(target);
    this.held = [];
  }

  waiting(file: string): void {
    this.pass((w) => w.waiting(file));
  }
  preparing(): void {
    this.pass((w) => w.preparing());
  }
  judging(chunks: number, rollouts: number): void {
    this.pass((w) => w.judging(chunks, rollouts));
  }
  chunkDone(result: Parameters<StepWatch['chunkDone']>[0]): void {
    this.pass((w) => w.chunkDone(result));
  }
  checkpointing(): void {
    this.pass((w) => w.checkpointing());
  }

  private pass(call: (watch: StepWatch) => void): void {
    if (this.target) call(this.target);
    else this.held.push(call);
  }
}
