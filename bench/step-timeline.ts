/**
 * Where a run's time goes between steps, from its history (the server's clock) and the judge's
 * call times: for the reward service benchmark (`bench/serve.ts`), whose throughput at a quota
 * is lost whenever the judge has nothing to do.
 */
import type { HistoryEvent } from '../test/support/run-chain';
import { eventId, eventKind, eventMs } from './history-timings';
import type { Payload } from '@temporalio/common';
import { decompressed } from '../src/temporal/payload-compression';

/**
 * Milliseconds from the step's start to each mark: an explicit step starts when its
 * submitRollouts update is accepted, a step the run numbered from trainer requests when it is
 * assembled (its `assembleStep` activity in older runs, else its prepareStep); its requests'
 * answers are due at its checkpoint.
 */
interface StepMarks {
  step: number;
  accepted?: number;
  prepareScheduled?: number;
  prepareDone?: number;
  chunksScheduled?: number;
  chunksDone?: number;
  checkpointScheduled?: number;
  checkpointDone?: number;
  updateDone?: number;
}

export interface StepTimeline {
  steps: number;
  /** Means over steps, ms: each phase's length. */
  mean_ms: {
    accepted_to_prepare: number;
    prepare: number;
    prepare_to_chunks: number;
    chunks: number;
    chunks_to_checkpoint: number;
    checkpoint: number;
    checkpoint_to_update_done: number;
  };
  /** Mean gap between one step's last chunk done and the next step's first chunk scheduled, ms (negative: overlap). */
  chunk_gap_ms: number;
  /** Steps whose chunks were scheduled before the previous step's chunks were done. */
  overlapped_steps: number;
}

function decode(raw: Payload | null | undefined): unknown {
  const payload = raw ? decompressed(raw) : undefined;
  if (!payload?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8'));
  } catch {
    return undefined;
  }
}

const mean = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : NaN);

/** Each step's marks from a run's history: activities are told their step in their input. */
export function stepTimeline(events: HistoryEvent[]): StepTimeline {
  const whole = stepMarks(events).filter(
    (m) => m.accepted !== undefined && m.prepareScheduled !== undefined && m.chunksDone !== undefined && m.checkpointDone !== undefined,
  );
  const phase = (f: (m: Required<StepMarks>) => number) => mean(whole.map((m) => f(m as Required<StepMarks>)));
  const gaps: number[] = [];
  for (let i = 1; i < whole.length; i++) gaps.push(whole[i]!.chunksScheduled! - whole[i - 1]!.chunksDone!);
  return {
    steps: whole.length,
    mean_ms: {
      accepted_to_prepare: phase((m) => m.prepareScheduled - m.accepted),
      prepare: phase((m) => m.prepareDone - m.prepareScheduled),
      prepare_to_chunks: phase((m) => m.chunksScheduled - m.prepareDone),
      chunks: phase((m) => m.chunksDone - m.chunksScheduled),
      chunks_to_checkpoint: phase((m) => m.checkpointScheduled - m.chunksDone),
      checkpoint: phase((m) => m.checkpointDone - m.checkpointScheduled),
      // Requests fed steps have no update to finish: their callers learn the answer from the run.
      checkpoint_to_update_done: phase((m) => (m.updateDone ?? m.checkpointDone) - m.checkpointDone),
    },
    chunk_gap_ms: mean(gaps),
    overlapped_steps: gaps.filter((g) => g < 0).length,
  };
}

/**
 * The run's first `count` steps as marks in ms from its first event (prepare scheduled, chunks
 * scheduled and done, checkpoint done), with the other commands of that span (a review started,
 * a search attribute set) and any `marks` given in wall-clock ms (the judge's idle gaps): where
 * the judge waited while the closed loop ramped up.
 */
export function firstSteps(events: HistoryEvent[], count: number, marks: (readonly [label: string, wallMs: number])[] = []): string {
  const t0 = events.length > 0 ? eventMs(events[0]!) : 0;
  const ms = (t: number | undefined) => (t === undefined ? '-' : String(Math.round(t - t0)));
  const steps = stepMarks(events).slice(0, count);
  const end = steps.at(-1)?.checkpointDone ?? Infinity;
  const others = events
    .filter((e) => eventMs(e) <= end)
    .map((e) => [eventKind(e), eventMs(e)] as const)
    .filter(([kind]) => /^(startChild|childWorkflow|upsert|signalExternal|timerStarted|workflowPropertiesModified)/.test(kind));
  return [
    ...steps.map((m) => `step ${m.step}: prepare ${ms(m.prepareScheduled)}, chunks ${ms(m.chunksScheduled)}-${ms(m.chunksDone)}, checkpoint done ${ms(m.checkpointDone)}`),
    ...others.map(([kind, t]) => `${kind} ${ms(t)}`),
    ...marks.filter(([, t]) => t <= end).map(([label, t]) => `${label} ${ms(t)}`),
  ].join('; ');
}

/** Each step's marks from a run's history, in step order. */
function stepMarks(events: HistoryEvent[]): StepMarks[] {
  const marks = new Map<number, StepMarks>();
  const at = (step: number) => marks.get(step) ?? marks.set(step, { step }).get(step)!;
  const scheduled = new Map<number, { type: string; step: number }>();
  const updates = new Map<number, number>();
  for (const e of events) {
    const t = eventMs(e);
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const step = (decode(accepted.acceptedRequest?.input?.args?.payloads?.[0]) as { step?: number } | undefined)?.step;
      if (typeof step === 'number') {
        at(step).accepted ??= t;
        updates.set(eventId(e), step);
      }
      continue;
    }
    const updateDone = e.workflowExecutionUpdateCompletedEventAttributes;
    if (updateDone) {
      const step = updates.get(Number(updateDone.acceptedEventId?.toString()));
      if (step !== undefined) at(step).updateDone = t;
      continue;
    }
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const step = (decode(s.input?.payloads?.[0]) as { step?: number } | undefined)?.step;
      const type = s.activityType?.name ?? '?';
      if (typeof step !== 'number') continue;
      scheduled.set(eventId(e), { type, step });
      const m = at(step);
      if (type === 'assembleStep') m.accepted ??= t;
      if (type === 'prepareStep') m.prepareScheduled ??= t;
      if (type === 'scoreChunk') m.chunksScheduled ??= t;
      if (type === 'checkpointStep') m.checkpointScheduled ??= t;
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const a = scheduled.get(Number(done.scheduledEventId?.toString()));
      if (!a) continue;
      const m = at(a.step);
      if (a.type === 'prepareStep') m.prepareDone = t;
      if (a.type === 'scoreChunk') m.chunksDone = Math.max(m.chunksDone ?? 0, t);
      if (a.type === 'checkpointStep') m.checkpointDone = t;
    }
  }
  // Since `assemble-in-prepare`, a request-fed step starts with its prepareStep.
  for (const m of marks.values()) m.accepted ??= m.prepareScheduled;
  return [...marks.values()].sort((a, b) => a.step - b.step);
}

/**
 * How much of the quota the judge's calls left unused, from when each call reached the judge:
 * `lost_share` is 1 - calls / (rate x span from the first call to the last); `idle_ms` sums the
 * gaps between consecutive calls longer than `idleGapMs` (stretches with nothing to judge, as
 * opposed to the limiter's own pacing) and `idle_gaps` lists them, and `per_second` counts the
 * calls in each second.
 */
export function quotaUse(callTimesMs: number[], requestsPerSecond: number, idleGapMs = 200) {
  const times = [...callTimesMs].sort((a, b) => a - b);
  if (times.length < 2) return { lost_share: 0, idle_ms: 0, idle_gaps: [], per_second: [times.length] };
  const span = times.at(-1)! - times[0]!;
  let idle = 0;
  const gaps: [at: number, ms: number][] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap <= idleGapMs) continue;
    idle += gap - 1000 / requestsPerSecond;
    gaps.push([times[i - 1]!, Math.round(gap)]);
  }
  const perSecond = new Array<number>(Math.floor(span / 1000) + 1).fill(0);
  for (const t of times) perSecond[Math.floor((t - times[0]!) / 1000)]!++;
  // The closed loop's ramp (all clients start at once) and drain (fewer clients than the quota
  // needs once most are done) left out: the calls from 2 s after the first to 2 s before the last.
  const steady = times.filter((t) => t >= times[0]! + 2000 && t < times.at(-1)! - 2000).length;
  return {
    lost_share: Math.round((1 - times.length / ((requestsPerSecond * span) / 1000 + 1)) * 1000) / 1000,
    idle_ms: Math.round(idle),
    /** Each gap over `idleGapMs`: when it began (the clock of `callTimesMs`) and how long it was. */
    idle_gaps: gaps,
    per_second: perSecond,
    steady_of_quota: span > 6000 ? Math.round((steady / ((requestsPerSecond * (span - 4000)) / 1000)) * 1000) / 1000 : null,
  };
}

/**
 * What a history holds per step: workflow tasks, updates, and activities by type. On a busy
 * machine each is a round trip through the server and the worker, the cost the offline service
 * benchmark measures.
 */
export function historyMix(events: HistoryEvent[]) {
  const steps = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkpointStep').length;
  const per = (n: number) => Math.round((n / Math.max(1, steps)) * 10) / 10;
  let tasks = 0;
  let updates = 0;
  const activities = new Map<string, number>();
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) tasks++;
    if (e.workflowExecutionUpdateAcceptedEventAttributes) updates++;
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) activities.set(type, (activities.get(type) ?? 0) + 1);
  }
  return {
    steps,
    events_per_step: per(events.length),
    workflow_tasks_per_step: per(tasks),
    updates_per_step: per(updates),
    activities_per_step: Object.fromEntries([...activities].map(([type, n]) => [type, per(n)])),
  };
}
