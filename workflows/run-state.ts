import { ApplicationFailure, condition, log, patched, workflowInfo, type CancellationScope } from '@temporalio/workflow';
import type { z } from 'zod';
import {
  CancelRequestSchema,
  PauseRequestSchema,
  ReconfigureRequestSchema,
  ResumeRequestSchema,
  SubmitRolloutsRequestSchema,
  type CancelRequest,
  type PauseRequest,
  type ReconfigureRequest,
  type ResumeRequest,
  type SubmitRolloutsRequest,
} from '../src/config/controls';
import type { RequestStatuses, SubmitRequests } from '../src/contract/trainer-requests';
import { mergeReconfigure } from '../src/config/merge-reconfigure';
import { RunConfigSchema, type RunConfig } from '../src/config/run-config';
import { parseOrThrow } from '../src/config/validation-error';
import type { StepSummary } from '../src/contract/step-summary';
import { addReview } from './agreement';
import { PATCHES } from './patches';
import { agreementGuard, budgetAllowsJudgingAhead, budgetGuard, canaryGuard, canaryVerdict, fallbackGuard } from './run-guards';
import type { ControlReply, ReviewOutcome, StepRewards } from './definitions';
import { currentExecution } from './execution';
import { countStep, progressAt, stepAt, watchStep, type RunProgress, type StepProgress } from './progress';
import { showDetails, showStatus } from './web-ui-status';
import { stageRollouts, type RefusedStep, type StepWatch } from './score-step';
import { MAX_INLINE_SUBMISSION_BYTES, StepInbox, type CarriedInbox, type StepSource } from './step-inbox';
import { judgeLabel } from '../src/config/judge-config';
import { scoresAtOnce } from './score-at-once';

export type { StepSource } from './step-inbox';

/** What a run hands to its next incarnation on continue-as-new: plain data only. */
export interface CarriedState {
  config: RunConfig;
  progress: RunProgress;
  nextStep: number;
  cancel: CancelIntent | undefined;
  /** Trainer requests accepted and not yet answered (absent in runs carried before requests existed). */
  inbox?: CarriedInbox;
}

export interface CancelIntent {
  mode: 'finish-step' | 'abandon-step';
  reason?: string;
}


/**
 * Everything a run knows and every way it can change: the status people see (running, paused,
 * completed, cancelled), the step it is on, a cancel in progress, the batches trainers sent.
 * Handlers call its methods; the run loop in rftRun asks it what to do next. Transitions happen
 * here and nowhere else, so a reader finds every rule of the run's life in one class.
 */
export class RunState {
  config: RunConfig;
  readonly runId: string;
  readonly progress: RunProgress;
  nextStep: number;
  cancel: CancelIntent | undefined;
  /** The run has ended: no control is accepted, waiting submissions hear it. */
  ended = false;
  /** The scope of the step in progress, to abandon it on request. */
  private stepScope: CancellationScope | undefined;
  /** True while the step in progress still waits for its rollouts: nothing to finish yet. */
  private awaitingRollouts = false;
  /** What trainers sent: explicit steps and requests, until their step is scored or refused. */
  readonly inbox: StepInbox;
  private readonly stepsAtStart: number;

  constructor(config: RunConfig, runId: string, carried: CarriedState | undefined) {
    this.config = config;
    this.runId = runId;
    this.progress = carried?.progress ?? startingProgress(runId, config);
    this.nextStep = carried?.nextStep ?? config.firstStep;
    this.cancel = carried?.cancel;
    this.stepsAtStart = this.progress.stepsDone;
    this.inbox = new StepInbox(this, carried?.inbox);
    // Progress carried from executions before these fields existed lacks them.
    this.progress.nextStep = this.nextStep;
    this.progress.inStep = undefined;
  }

  takingSteps(): boolean {
    return this.progress.status === 'running' && !this.cancel && !this.ended;
  }

  get lastStep(): number {
    return this.config.firstStep + this.config.steps - 1;
  }

  get hasStepsLeft(): boolean {
    return this.nextStep <= this.lastStep && !this.cancel;
  }

  carried(): CarriedState {
    return { config: this.config, progress: this.progress, nextStep: this.nextStep, cancel: this.cancel, inbox: this.inbox.carried() };
  }

  // ---- controls: what people and trainers send ----

  pause(reason: string): ControlReply {
    this.progress.status = 'paused';
    this.progress.reason = reason;
    log.warn('run paused', { reason });
    showStatus(this.progress);
    return this.reply(`paused: ${reason}`);
  }

  pauseRequested(request: PauseRequest): ControlReply {
    return this.pause(PauseRequestSchema.parse(request).reason ?? 'paused by request');
  }

  validatePause(request: unknown): void {
    check(PauseRequestSchema, request);
    this.requireActive();
    if (this.progress.status === 'paused') throw new Error(`run is already paused: ${this.progress.reason}`);
  }

  resume(request: ResumeRequest): ControlReply {
    const { judge, note } = ResumeRequestSchema.parse(request);
    if (judge) this.config = withJudge(this.config, judge);
    this.progress.status = 'running';
    this.progress.reason = undefined;
    this.progress.judgeModel = judgeLabel(this.config.judge, { short: true });
    showStatus(this.progress);
    return this.reply(`resumed${judge ? ` with judge ${judgeLabel(this.config.judge, { short: true })}` : ''}${note ? `: ${note}` : ''}`);
  }

  validateResume(request: unknown): void {
    const { judge } = check(ResumeRequestSchema, request);
    this.requireActive();
    if (this.progress.status !== 'paused') throw new Error('run is not paused');
    // The new judge must make a runnable config with the rest (a budget needs its price, ...).
    if (judge) withJudge(this.config, judge);
  }

  requestCancel(request: CancelRequest): ControlReply {
    const { mode, reason } = CancelRequestSchema.parse(request);
    this.cancel = { mode, reason };
    if (mode === 'abandon-step' || this.awaitingRollouts) {
      this.stepScope?.cancel();
      return this.reply('cancelling now');
    }
    return this.reply('cancelling after the current step');
  }

  validateCancel(request: unknown): void {
    check(CancelRequestSchema, request);
    this.requireActive();
    if (this.cancel) throw new Error('run is already being cancelled');
  }

  reconfigure(request: ReconfigureRequest): ControlReply {
    this.config = reconfigured(this.config, request);
    this.progress.judgeModel = judgeLabel(this.config.judge, { short: true });
    showStatus(this.progress);
    return this.reply(`reconfigured from step ${this.nextStep + (this.progress.currentStep === undefined ? 0 : 1)}`);
  }

  validateReconfigure(request: unknown): void {
    this.requireActive();
    reconfigured(this.config, request);
  }

  /** A trainer's batch for an explicit step: staged if inline, then held until its step is scored or refused. */
  async submit(request: SubmitRolloutsRequest): Promise<StepRewards> {
    const { step, rollouts, path } = SubmitRolloutsRequestSchema.parse(request);
    const stage = (tag: string) =>
      rollouts
        ? stageRollouts(this.config, { outputDir: this.config.outputDir, runId: this.runId, step, rollouts, execution: currentExecution(), tag })
        : path!;
    return this.inbox.submitExplicit(step, submissionContent(request), stage);
  }

  validateSubmit(request: unknown): void {
    const { step, rollouts } = check(SubmitRolloutsRequestSchema, request);
    this.requireActive();
    this.requireUpdatesFed();
    this.inbox.checkExplicit(step, submissionContent(request as SubmitRolloutsRequest));
    if (rollouts && JSON.stringify(rollouts).length > MAX_INLINE_SUBMISSION_BYTES) {
      throw new Error(`inline rollouts over ${MAX_INLINE_SUBMISSION_BYTES} bytes: write them to a file and send its path`);
    }
  }

  /** Trainer requests (what arbiter serve sends): recorded by key, numbered into steps by the run. */
  submitRequests(request: SubmitRequests): Promise<RequestStatuses> {
    return this.inbox.submitRequests(request);
  }

  validateRequests(request: unknown): void {
    this.requireActive();
    this.requireUpdatesFed();
    this.inbox.validateRequests(request);
  }

  private requireUpdatesFed(): void {
    if (this.config.rollouts.type !== 'updates') {
      throw ApplicationFailure.create({ type: 'NotUpdatesFed', nonRetryable: true, message: 'this run reads rollouts from a directory, not from updates' });
    }
  }

  /** A reviewer answered: agreement moves, and may fall below the floor. */
  reviewAnswered({ judgePass, humanPass }: ReviewOutcome): void {
    const progress = this.progress;
    progress.agreement = addReview(progress.agreement, judgePass, humanPass);
    const low = agreementGuard(this.config, progress.agreement);
    if (low && progress.status === 'running') this.pause(low);
    showStatus(progress);
  }

  // ---- the run loop's questions and transitions ----

  /** Resolves once the run may score its next step (not paused), or is being cancelled. */
  async untilRunnable(): Promise<void> {
    await condition(() => this.progress.status !== 'paused' || this.cancel !== undefined);
  }

  budgetReached(): string | undefined {
    return budgetGuard(this.config, this.progress.totals.costUsd);
  }

  /** Whether one more step may be judged ahead within the budget (run-guards.ts). */
  budgetAllowsJudgingAhead(alreadyAhead = 0): boolean {
    return budgetAllowsJudgingAhead(this.config, this.progress.totals.costUsd, this.progress.lastStep?.costUsd, alreadyAhead);
  }

  /**
   * The step's rollouts: the directory's file, or what trainers send (undefined if cancelled while
   * waiting). A paused run takes no step: the step waits, with its rollouts, for resume.
   */
  async rolloutsOf(step: number): Promise<StepSource | undefined> {
    if (this.config.rollouts.type === 'directory') return { file: `${this.config.rollouts.path}`, inline: false };
    if (!this.inbox.explicitSource(step)) {
      this.stepMoved({ ...stepAt(step), waitingFor: `a submitRollouts or submitRequests update for step ${step}` });
    }
    await condition(
      () => this.inbox.explicitSource(step) !== undefined || this.cancel !== undefined || (this.inbox.ready(step) && this.progress.status === 'running'),
    );
    const explicit = this.inbox.explicitSource(step);
    if (explicit || this.cancel !== undefined) return explicit;
    // With nothing judged ahead yet, half the queue makes this step and the rest the next, so the
    // next can be judged while this one checkpoints. Scored at once, a step takes all.
    return this.inbox.sourceOf(step, scoresAtOnce(this.config) ? 1 : 0.5);
  }

  /** The batch a trainer sent for `step`, if it did and the step is not scored yet. */
  submission(step: number): StepSource | undefined {
    return this.inbox.explicitSource(step);
  }

  stepStarted(step: number, scope: CancellationScope): void {
    this.progress.currentStep = step;
    this.stepScope = scope;
    this.awaitingRollouts = true;
    this.stepMoved(stepAt(step));
  }

  /** How the step in progress reports each move: into the progress query and current details. */
  stepWatch(step: number): StepWatch {
    // A chunk settling after its step stopped (abandoned, paused) must not bring the step back.
    const move = (next: (s: StepProgress) => StepProgress) => {
      if (this.progress.currentStep === step) this.stepMoved(next(this.progress.inStep ?? stepAt(step)));
    };
    return watchStep(move, () => (this.awaitingRollouts = false));
  }

  stepStopped(): void {
    this.progress.currentStep = undefined;
    this.progress.inStep = undefined;
    this.stepScope = undefined;
    this.awaitingRollouts = false;
    showDetails(this.progress);
  }

  private stepMoved(inStep: StepProgress): void {
    this.progress.inStep = inStep;
    showDetails(this.progress);
  }

  /** A scored step counts: totals move, and a trainer waiting for it gets its rewards. */
  stepScored(step: number, outcome: { summary: StepSummary; file: string; rewards: StepRewards['rewards'] }): void {
    this.nextStep++;
    this.progress.nextStep = this.nextStep;
    const { summary } = outcome;
    countStep(this.progress, summary);
    this.inbox.stepScored(step, { step, summary, file: outcome.file, rewards: outcome.rewards });
  }

  /** A step that makes no sense pauses the run; a trainer that sent it hears why at once and may send a corrected one. */
  stepRefused(step: number, refusal: RefusedStep): void {
    // A step made of many trainers' requests is refused to them alone: the run goes on for others.
    if (!this.inbox.isAssembled(step)) this.pause(refusal.refused);
    this.inbox.stepRefused(step, refusal);
  }

  fallbackGuard(summary: StepSummary): void {
    const reason = fallbackGuard(this.config, summary);
    if (reason) this.pause(reason);
  }

  canaryGuard(summary: StepSummary): void {
    const since = { workflowId: workflowInfo().workflowId, lastGoodStep: this.progress.lastGoodCanaryStep };
    if (canaryVerdict(this.config, summary) === 'good') this.progress.lastGoodCanaryStep = summary.step;
    // The reason is kept in the run's state and shown (query, current details), never in an event: its words need no patch.
    const reason = canaryGuard(this.config, this.runId, summary, since);
    // Histories from before canaries never get here (no canary config); the marker dates the guard.
    if (!reason || !patched(PATCHES.canaryFloor.id)) return;
    this.pause(this.progress.status === 'paused' && this.progress.reason ? `${this.progress.reason}; and ${reason}` : reason);
  }

  reviewStarted(workflowId: string): void {
    if (this.progress.openReviews.includes(workflowId)) return;
    this.progress.openReviews = [...this.progress.openReviews, workflowId].slice(-20);
  }

  continueAsNewDue(): boolean {
    if (this.nextStep > this.lastStep) return false;
    const stepsHere = this.progress.stepsDone - this.stepsAtStart;
    return workflowInfo().continueAsNewSuggested || stepsHere >= this.config.continueAsNewEverySteps;
  }

  /** Stop accepting submissions; true once none is left to score here. */
  rollOver(): boolean {
    this.inbox.rollingOver = true;
    return !this.inbox.hasUnscoredExplicit;
  }

  end(status: 'completed' | 'cancelled', reason: string | undefined): void {
    this.ended = true;
    this.inbox.end(`the run ${status === 'completed' ? 'completed' : 'was cancelled'} before this request was scored`);
    this.progress.status = status;
    this.progress.reason = reason;
    this.progress.currentStep = undefined;
    this.progress.inStep = undefined;
  }

  private reply(message: string): ControlReply {
    return { status: this.progress.status, message };
  }

  private requireActive(): void {
    if (this.ended || this.progress.status === 'completed' || this.progress.status === 'cancelled') {
      throw new Error(`run is ${this.progress.status}`);
    }
  }
}

/** What an explicit submission is, to tell a resend of it from another batch for the same step. */
function submissionContent(request: SubmitRolloutsRequest): string {
  return request.rollouts ? JSON.stringify(request.rollouts) : `path:${request.path}`;
}

function startingProgress(runId: string, config: RunConfig): RunProgress {
  return progressAt(runId, config.steps, config.firstStep, judgeLabel(config.judge, { short: true }));
}

/**
 * Validates an update payload, throwing a plain Error naming each bad field: that is what the
 * caller sees when the update is rejected (a ZodError would not be reported as clearly).
 */
function check<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  return parseOrThrow(schema, request, (issues) => new Error(issues.join('; ')));
}

/** The run config with another judge, validated as a whole run config. */
function withJudge(config: RunConfig, judge: unknown): RunConfig {
  return check(RunConfigSchema, { ...config, judge });
}

/** Applies a reconfigure request, validating the result as a whole run config. */
function reconfigured(config: RunConfig, request: unknown): RunConfig {
  return check(RunConfigSchema, mergeReconfigure(config, check(ReconfigureRequestSchema, request)));
}
