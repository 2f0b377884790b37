import cliProgress from 'cli-progress';
import { headline, stepActivity, type RunProgress } from '../../workflows/progress';
import type { Temporal } from './connect';
import { isUnreachable, rootMessage } from '../temporal/client-errors';
import { inStepLine, stepBrief, stepLine } from './format-progress';
import { NoAnswerError, readRun, type ClosedRun } from './read-run';

export interface WatchOptions {
  intervalMs: number;
  /** A live bar on a terminal; plain lines (one per step) for pipes, files and CI logs. */
  tty: boolean;
}

interface Output {
  line(text: string): void;
  progress(p: RunProgress): void;
  stop(): void;
}

/**
 * Follows a run until it completes or is cancelled, polling its `progress` query. A pause is
 * reported, not an end: someone will resume it. A server or worker outage is waited out, since
 * a restart is exactly what Arbiter is built to survive. Returns the exit code.
 */
export async function watchRun(t: Temporal, workflowId: string, options: WatchOptions): Promise<number> {
  const out = options.tty ? barOutput() : lineOutput();
  const interrupted = (signal: NodeJS.Signals) => {
    out.stop();
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  // The bar hides the cursor; give it back however the watch is ended.
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let lastStep = -Infinity;
  let lastState = '';
  let lastInStep: string | undefined;
  let lastTrouble = '';
  try {
    for (;;) {
      let state;
      try {
        state = await readRun(t, workflowId, Math.max(5_000, options.intervalMs * 5));
        lastTrouble = '';
      } catch (err) {
        const trouble = troubleOf(err, t.address);
        if (trouble === undefined) throw err;
        // One notice per kind of outage; the details of each failed poll vary and say nothing new.
        if (trouble.kind !== lastTrouble) out.line(`${trouble.message} (still watching)`);
        lastTrouble = trouble.kind;
        await sleep(options.intervalMs);
        continue;
      }
      if ('closed' in state) {
        out.stop();
        return reportClosed(workflowId, state);
      }

      const p = state.progress;
      const stateText = p.status === 'paused' ? `paused: ${p.reason ?? 'no reason given'}` : p.status;
      if (lastState === '') out.line(`watching ${workflowId}: ${headline(p)}`);
      for (const s of p.recent) {
        if (s.step <= lastStep) continue;
        lastStep = s.step;
        // A re-judge's steps are the run's numbers, not counted from 1: no "of total" after them.
        if (!options.tty) out.line(stepLine(s, p.version ? undefined : p.totalSteps));
      }
      // The step in progress, as its chunks finish or while it waits for its file (the bar shows it in place).
      const inStep = inStepLine(p);
      if (!options.tty && inStep && inStep !== lastInStep) out.line(inStep);
      lastInStep = inStep;
      if (p.lastStep) lastStep = Math.max(lastStep, p.lastStep.step);
      const ended = p.status === 'completed' || p.status === 'cancelled';
      if (lastState !== '' && stateText !== lastState && !ended) out.line(stateText === 'running' ? 'resumed' : stateText);
      lastState = stateText;
      out.progress(p);

      if (ended) {
        out.stop();
        console.log(`run ${workflowId} ${p.status}${p.reason ? ` (${p.reason})` : ''}: ${p.stepsDone}/${p.totalSteps} steps scored`);
        return 0;
      }
      await sleep(options.intervalMs);
    }
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    out.stop();
  }
}

/** Outages worth waiting out; undefined for errors that end the watch. */
function troubleOf(err: unknown, address: string): { kind: string; message: string } | undefined {
  if (err instanceof NoAnswerError) return { kind: 'no-worker', message: err.message };
  if (isUnreachable(err)) return { kind: 'unreachable', message: `cannot reach Temporal at ${address}: ${rootMessage(err)}` };
  return undefined;
}

function reportClosed(workflowId: string, state: ClosedRun): number {
  const r = state.result;
  if (state.closed === 'COMPLETED' && r) {
    console.log(`run ${workflowId} ${r.status}: ${r.stepsDone} steps scored`);
    return 0;
  }
  console.log(`run ${workflowId} ${state.closed.toLowerCase()}${state.failure ? `: ${state.failure}` : ''}`);
  return 1;
}

function lineOutput(): Output {
  return { line: (text) => console.log(text), progress: () => {}, stop: () => {} };
}

function barOutput(): Output {
  const bars = new cliProgress.MultiBar(
    {
      format: '{bar} {value}/{total} steps | {state} | {last}',
      stream: process.stdout,
      hideCursor: true,
      barsize: 30,
      // Keep the bar when the watch ends: the final state is worth seeing.
      clearOnComplete: false,
      // Without it the terminal stops wrapping while the bar runs, and cuts a long pause reason.
      linewrap: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  return {
    line: (text) => (bar ? bars.log(`${text}\n`) : console.log(text)),
    progress: (p) => {
      const payload = { state: p.status, last: nowOrLast(p) };
      if (!bar) bar = bars.create(p.totalSteps, p.stepsDone, payload);
      else {
        bar.setTotal(p.totalSteps);
        bar.update(p.stepsDone, payload);
      }
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}

/** The step in progress if there is one, else the last step scored. */
function nowOrLast(p: RunProgress): string {
  if (p.inStep) return `step ${p.inStep.step}: ${stepActivity(p.inStep)}`;
  return p.lastStep ? stepBrief(p.lastStep) : 'no step scored yet';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
