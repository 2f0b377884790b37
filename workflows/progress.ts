import type { StepSummary } from '../src/contract/step-summary';
import { KAPPA_UNDEFINED } from '../src/stats/kappa';
import { emptyAgreement } from './agreement';
import type { StepWatch } from './score-step';

/** Step summaries the progress keeps: a watcher polling slowly misses none. */
const RECENT_STEPS = 20;

export type RunStatus = 'running' | 'paused' | 'completed' | 'cancelled';

export interface Agreement {
  reviews: number;
  agree: number;
  /** Share of reviews where the human and the judge gave the same pass/fail. */
  accuracy: number | null;
  /**
   * Cohen's kappa on pass/fail, agreement beyond chance (src/stats/kappa.ts). null where it is
   * undefined: no reviews yet, or the judge and every reviewer gave every item the same verdict.
   */
  kappa: number | null;
  /** judge pass/fail × human pass/fail counts. */
  matrix: { jp_hp: number; jp_hf: number; jf_hp: number; jf_hf: number };
}

/**
 * Where the step in progress is, moved by the run as each of its activities resolves: it costs
 * no history event beyond the activity results already there.
 */
export interface StepProgress {
  step: number;
  /** waiting for the trainer's rollouts, preparing (validating, chunking), judging the chunks, checkpointing the rewards. */
  phase: 'waiting' | 'preparing' | 'judging' | 'checkpointing';
  /** In phase `waiting`: the file the step waits for (directory source), or the update it waits for. */
  waitingFor: string | undefined;
  chunks: number;
  chunksDone: number;
  /** Valid rollouts in the step (known once prepared). */
  rollouts: number;
  /** Rollouts of the finished chunks. */
  rolloutsJudged: number;
  /** Fallback and excluded rollouts of the finished chunks. */
  fallbacks: number;
}

export interface RunProgress {
  runId: string;
  status: RunStatus;
  /** Why the run is paused or was cancelled. */
  reason: string | undefined;
  totalSteps: number;
  stepsDone: number;
  /** The step being scored now, if any. */
  currentStep: number | undefined;
  /** The step the run scores next (the one in progress, if any). */
  nextStep: number;
  /** How far the step in progress got: absent between steps. */
  inStep: StepProgress | undefined;
  lastStep: StepSummary | undefined;
  /** Summaries of the latest steps, oldest first, so a watcher polling slowly misses none. */
  recent: StepSummary[];
  totals: {
    rollouts: number;
    fallbacks: number;
    inputTokens: number;
    outputTokens: number;
    /** Prompt-cache tokens (absent in runs carried over from before prompt caching). */
    cacheReadInputTokens?: number;
    cacheWriteInputTokens?: number;
    costUsd: number;
  };
  judgeModel: string;
  agreement: Agreement;
  openReviews: string[];
  /** A re-judge's progress (rejudgeRun): its steps are some of the run's, numbered as the run numbered them. */
  version?: { run: string; name: string };
  /** The last step whose canaries met the floor (runs with canaries): a canary pause names the steps since. */
  lastGoodCanaryStep?: number;
}

/** A run's progress before its first step. */
export function progressAt(runId: string, totalSteps: number, nextStep: number, judgeModel: string): RunProgress {
  return {
    runId,
    status: 'running',
    reason: undefined,
    totalSteps,
    stepsDone: 0,
    currentStep: undefined,
    nextStep,
    inStep: undefined,
    lastStep: undefined,
    recent: [],
    totals: { rollouts: 0, fallbacks: 0, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, costUsd: 0 },
    judgeModel,
    agreement: emptyAgreement(),
    openReviews: [],
  };
}

export function stepAt(step: number): StepProgress {
  return { step, phase: 'waiting', waitingFor: undefined, chunks: 0, chunksDone: 0, rollouts: 0, rolloutsJudged: 0, fallbacks: 0 };
}

/** A checkpointed step counts: steps done, the latest summaries and the totals move. */
export function countStep(progress: RunProgress, summary: StepSummary): void {
  progress.stepsDone++;
  progress.lastStep = summary;
  progress.recent = [...progress.recent, summary].slice(-RECENT_STEPS);
  const t = progress.totals;
  t.rollouts += summary.count;
  t.fallbacks += summary.fallback + summary.excluded;
  t.inputTokens += summary.inputTokens;
  t.outputTokens += summary.outputTokens;
  t.cacheReadInputTokens = (t.cacheReadInputTokens ?? 0) + (summary.cacheReadInputTokens ?? 0);
  t.cacheWriteInputTokens = (t.cacheWriteInputTokens ?? 0) + (summary.cacheWriteInputTokens ?? 0);
  t.costUsd = Math.round((t.costUsd + summary.costUsd) * 1e6) / 1e6;
}

/** A step's watch that moves its StepProgress through `move` (which decides whether the step still counts, and shows it). */
export function watchStep(move: (next: (s: StepProgress) => StepProgress) => void, onPreparing: () => void = () => {}): StepWatch {
  return {
    waiting: (file) => move((s) => ({ ...s, phase: 'waiting', waitingFor: file })),
    preparing: () => {
      onPreparing();
      move((s) => ({ ...s, phase: 'preparing', waitingFor: undefined }));
    },
    judging: (chunks, rollouts) => move((s) => ({ ...s, phase: 'judging', chunks, rollouts, chunksDone: 0, rolloutsJudged: 0, fallbacks: 0 })),
    chunkDone: (r) =>
      move((s) => ({ ...s, chunksDone: s.chunksDone + 1, rolloutsJudged: s.rolloutsJudged + r.count, fallbacks: s.fallbacks + r.fallback + r.excluded })),
    checkpointing: () => move((s) => ({ ...s, phase: 'checkpointing' })),
  };
}

/**
 * The Web UI's "current details": the run's health at a glance, as Markdown. The first line says
 * the status (in capitals: the Web UI shows a paused run as Running and a cancelled one as
 * Completed), the step and, when paused or cancelled, why.
 */
export function progressMarkdown(p: RunProgress): string {
  const lines = [headline(p).replace(/^[A-Z]+/, (status) => `**${status}**`)];
  if (p.inStep && p.status !== 'running') lines.push('', `step ${p.inStep.step}: ${stepActivity(p.inStep)}`);
  lines.push(
    '',
    `run \`${p.runId}\`, ${p.stepsDone}/${p.totalSteps} steps scored, judge \`${p.judgeModel}\``,
    '',
    `rollouts ${p.totals.rollouts}, fallbacks ${p.totals.fallbacks}, tokens ${tokensInOut(p.totals)}, est. cost $${p.totals.costUsd.toFixed(4)}`,
  );
  if (p.agreement.reviews > 0) {
    lines.push(
      '',
      `human review: ${p.agreement.reviews} answered, agreement ${pct(p.agreement.accuracy)}, kappa ${p.agreement.kappa?.toFixed(2) ?? KAPPA_UNDEFINED}`,
    );
  }
  const canary = lastCanary(p);
  if (canary) lines.push('', canary);
  if (p.recent.length > 0) {
    lines.push(
      '',
      '| step | rollouts | reward mean | p50 | p90 | fallback | quarantined | calls | tokens | seconds |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...p.recent
        .slice(-10)
        .map(
          (s) =>
            `| ${s.step} | ${s.count} | ${s.reward.mean.toFixed(3)} | ${s.reward.p50.toFixed(3)} | ${s.reward.p90.toFixed(3)} | ${pct(s.fallbackRate)} | ${s.quarantined} | ${s.calls} | ${s.inputTokens + s.outputTokens} | ${((s.durationMs ?? 0) / 1000).toFixed(1)} |`,
        ),
    );
  }
  return lines.join('\n');
}

/** The newest step's canaries against their gold labels: a silently changed judge shows here first. */
function lastCanary(p: RunProgress): string | undefined {
  const s = [...p.recent].reverse().find((r) => r.canary);
  if (!s?.canary) return undefined;
  const { n, accuracy, kappa, failed } = s.canary;
  return `canaries (step ${s.step}): ${n} judged, accuracy ${pct(accuracy)}, kappa ${kappa?.toFixed(2) ?? (n > 0 ? KAPPA_UNDEFINED : 'n/a')}` + (failed > 0 ? `, ${failed} judge failures` : '');
}

/** Status, step and reason in one line of words: the first line of current details, `run status` and `run watch`. */
export function headline(p: RunProgress): string {
  const scored = `${p.stepsDone}/${p.totalSteps} steps scored`;
  const step = p.inStep?.step ?? p.currentStep ?? p.nextStep;
  switch (p.status) {
    case 'running':
      return p.inStep
        ? `RUNNING step ${p.inStep.step}: ${stepActivity(p.inStep)} (${scored})`
        : `RUNNING next step ${step} (${scored})`;
    case 'paused':
      return `PAUSED ${p.inStep ? 'during' : 'before'} step ${step}: ${p.reason ?? 'no reason given'} (${scored})`;
    case 'cancelled':
      return `CANCELLED after ${scored}${p.reason ? `: ${p.reason}` : ''}`;
    case 'completed':
      return `COMPLETED ${scored}`;
  }
}

/** What the step in progress is doing, in words. */
export function stepActivity(s: StepProgress): string {
  switch (s.phase) {
    case 'waiting':
      return `waiting for ${s.waitingFor ?? 'its rollouts'}`;
    case 'preparing':
      return 'reading and validating its rollouts';
    case 'judging':
      return `${s.chunksDone}/${s.chunks} chunks done, ${s.rolloutsJudged}/${s.rollouts} rollouts judged` + (s.fallbacks > 0 ? `, ${s.fallbacks} fallbacks` : '');
    case 'checkpointing':
      return `all ${s.rolloutsJudged} rollouts judged, writing rewards`;
  }
}

/** Input and output tokens, with what the prompt cache read and wrote when it did anything. */
export function tokensInOut(t: Pick<RunProgress['totals'], 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheWriteInputTokens'>): string {
  const read = t.cacheReadInputTokens ?? 0;
  const written = t.cacheWriteInputTokens ?? 0;
  const cache = read + written > 0 ? ` (+ cache ${read} read, ${written} written)` : '';
  return `${t.inputTokens} in${cache} / ${t.outputTokens} out`;
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
