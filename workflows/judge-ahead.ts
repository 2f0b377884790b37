import { CancellationScope, condition, patched } from '@temporalio/workflow';
import type { RunConfig } from '../src/config/run-config';
import type { RunState, StepSource } from './run-state';
import { judgeStep, type JudgedStep, type RefusedStep, type StepWatch } from './score-step';

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
 * Judges the next step a trainer already submitted while the run loop finishes the current one
 * (its last judge calls, its checkpoint, review and guards, the next update's round trips), so
 * a judge at its quota never waits between steps when several steps are submitted at once, as
 * `arbiter serve` does. Only judging moves ahead, one step at most: checkpoints, summaries,
 * rewards, reviews and guards stay in step order in the loop, which takes the head start when it
 * reaches the step. A head start is dropped when the run pauses, ends or moves to a fresh
 * history, and not used when the config changed since it began: the step is then scored afresh
 * (preparing it again retires the old batch key, so no stale chunk writes into the new one).
 */
export class JudgeAhead {
  private watched: { step: number; stopped: boolean } | undefined;
  private ahead: Ahead | undefined;

  constructor(private readonly run: RunState) {}

  /** While the loop scores the step before `step`: judge `step` as soon as it is submitted. */
  judgeOnceSubmitted(step: number): void {
    this.stopWatching();
    if (this.run.config.rollouts.type !== 'updates' || step > this.run.lastStep) return;
    const watched = { step, stopped: false };
    this.watched = watched;
    // Explicit steps once staged; trainer requests as soon as any wait (the run numbers them in).
    void condition(() => watched.stopped || this.run.submission(step) !== undefined || (this.mayJudge() && this.run.inbox.ready(step))).then(() => {
      if (watched.stopped || !this.mayJudge()) return;
      // Runs recorded before judging ahead scored each step after the last: they replay as they ran.
      if (!patched('overlap-submitted-steps')) return;
      this.begin(step, this.run.submission(step) ?? this.run.inbox.sourceOf(step));
    });
  }

  /** The head start of `step`, if it has one judged under the run's config as it is now. */
  take(step: number): HeadStart | undefined {
    this.stopWatching();
    const ahead = this.ahead;
    this.ahead = undefined;
    if (!ahead) return undefined;
    if (ahead.step === step && ahead.config === this.run.config) return ahead;
    ahead.cancel();
    return undefined;
  }

  /** Nothing more goes on ahead: the run pauses, ends or continues as new. */
  abandon(): void {
    this.stopWatching();
    this.ahead?.cancel();
    this.ahead = undefined;
  }

  private mayJudge(): boolean {
    const run = this.run;
    return run.progress.status === 'running' && !run.cancel && !run.ended && run.budgetAllowsJudgingAhead();
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
    this.ahead = { step, config, started: Date.now(), judged, cancel: () => scope.cancel(), attach: (to) => watch.attach(to) };
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
