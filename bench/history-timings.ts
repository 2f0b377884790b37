/**
 * Times a run from its history's event timestamps (the server's clock), for the benchmarks that
 * run workflows: per activity type and for workflow tasks, how long each ran and waited.
 */
import type { HistoryEvent } from '../test/support/run-chain';

export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return NaN;
  const seconds = typeof t.seconds === 'number' ? t.seconds : Number(t.seconds?.toString() ?? 0);
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

export function eventId(event: HistoryEvent): number {
  return Number(event.eventId?.toString() ?? 0);
}

/** The name of the event's attributes field, e.g. `activityTaskScheduled`. */
export function eventKind(event: HistoryEvent): string {
  for (const key of Object.keys(event)) {
    if (key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key]) return key.slice(0, -'EventAttributes'.length);
  }
  return 'unknown';
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export interface ActivityTiming {
  count: number;
  /** First scheduled to last completed, ms. */
  span_ms: number;
  /** Offset of the first scheduled event from the run's start, ms. */
  first_scheduled_at_ms: number;
  run_ms_sum: number;
  run_ms_mean: number;
  run_ms_max: number;
  /** Scheduled to started (queue latency), ms. */
  queue_ms_mean: number;
  queue_ms_max: number;
}

export interface HistoryTimings {
  events: number;
  wall_ms: number;
  kinds: Record<string, number>;
  activities: Record<string, ActivityTiming>;
  workflow_tasks: { count: number; queue_ms_mean: number; queue_ms_max: number; run_ms_mean: number; run_ms_max: number; run_ms_sum: number };
}

/**
 * Times a run's activities and workflow tasks from its history's event timestamps (the
 * server's clock): per activity type, how long each ran and waited in the task queue, and the
 * span from the first one scheduled to the last one completed.
 */
export function historyTimings(events: HistoryEvent[]): HistoryTimings {
  const t0 = events.length ? eventMs(events[0]!) : 0;
  const kinds: Record<string, number> = {};
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const acts: Record<string, { at: number[]; done: number[]; run: number[]; queue: number[] }> = {};
  const wftScheduled = new Map<number, number>();
  const wftStarted = new Map<number, { at: number; queue: number }>();
  const wftQueue: number[] = [];
  const wftRun: number[] = [];

  for (const e of events) {
    const kind = eventKind(e);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const at = eventMs(e);
    if (e.activityTaskScheduledEventAttributes) {
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      scheduled.set(eventId(e), { type, at });
      (acts[type] ??= { at: [], done: [], run: [], queue: [] }).at.push(at);
    } else if (e.activityTaskStartedEventAttributes) {
      started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId?.toString()), at);
    } else if (e.activityTaskCompletedEventAttributes) {
      const sid = Number(e.activityTaskCompletedEventAttributes.scheduledEventId?.toString());
      const s = scheduled.get(sid);
      const st = started.get(sid);
      if (s) {
        const a = acts[s.type]!;
        a.done.push(at);
        if (st !== undefined) {
          a.run.push(at - st);
          a.queue.push(st - s.at);
        }
      }
    } else if (e.workflowTaskScheduledEventAttributes) {
      wftScheduled.set(eventId(e), at);
    } else if (e.workflowTaskStartedEventAttributes) {
      const sid = Number(e.workflowTaskStartedEventAttributes.scheduledEventId?.toString());
      const s = wftScheduled.get(sid);
      wftStarted.set(eventId(e), { at, queue: s === undefined ? 0 : at - s });
    } else if (e.workflowTaskCompletedEventAttributes) {
      const st = wftStarted.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId?.toString()));
      if (st) {
        wftQueue.push(st.queue);
        wftRun.push(at - st.at);
      }
    }
  }

  const activities: Record<string, ActivityTiming> = {};
  for (const [type, a] of Object.entries(acts)) {
    const sum = a.run.reduce((x, y) => x + y, 0);
    activities[type] = {
      count: a.at.length,
      span_ms: r1(Math.max(...a.done) - Math.min(...a.at)),
      first_scheduled_at_ms: r1(Math.min(...a.at) - t0),
      run_ms_sum: r1(sum),
      run_ms_mean: r1(sum / Math.max(1, a.run.length)),
      run_ms_max: r1(Math.max(0, ...a.run)),
      queue_ms_mean: r1(a.queue.reduce((x, y) => x + y, 0) / Math.max(1, a.queue.length)),
      queue_ms_max: r1(Math.max(0, ...a.queue)),
    };
  }
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  return {
    events: events.length,
    wall_ms: events.length ? r1(eventMs(events.at(-1)!) - t0) : 0,
    kinds,
    activities,
    workflow_tasks: {
      count: wftRun.length,
      queue_ms_mean: r1(sum(wftQueue) / Math.max(1, wftQueue.length)),
      queue_ms_max: r1(Math.max(0, ...wftQueue)),
      run_ms_mean: r1(sum(wftRun) / Math.max(1, wftRun.length)),
      run_ms_max: r1(Math.max(0, ...wftRun)),
      run_ms_sum: r1(sum(wftRun)),
    },
  };
}


/**
 * Where a workflow task's time goes when a step is scored at once (workflows/score-at-once.ts):
 * for each local activity type, the mean ms from the task's start, or from the local activity
 * completed before it in the task, to its completion (core records when each completed in its
 * marker); and the mean task, started to completed.
 */
export function localActivityPhases(events: HistoryEvent[]): { tasks: number; task_ms_mean: number; mean_ms: Record<string, number>; count: Record<string, number> } {
  const gaps = new Map<string, number[]>();
  const tasks: number[] = [];
  let taskStart = NaN;
  let last = NaN;
  for (const e of events) {
    if (e.workflowTaskStartedEventAttributes) taskStart = last = eventMs(e);
    if (e.workflowTaskCompletedEventAttributes && !Number.isNaN(taskStart)) tasks.push(eventMs(e) - taskStart);
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') continue;
    const data = marker.details?.data?.payloads?.[0]?.data;
    if (!data) continue;
    const { activity_type: type, complete_time: done } = JSON.parse(Buffer.from(data).toString('utf8')) as {
      activity_type: string;
      complete_time?: { seconds: number | string; nanos?: number };
    };
    if (!done) continue;
    const at = Number(done.seconds) * 1000 + (done.nanos ?? 0) / 1e6;
    const list = gaps.get(type) ?? gaps.set(type, []).get(type)!;
    list.push(at - last);
    last = at;
  }
  const mean = (xs: number[]) => (xs.length ? r1(xs.reduce((a, b) => a + b, 0) / xs.length) : NaN);
  return {
    tasks: tasks.length,
    task_ms_mean: mean(tasks),
    mean_ms: Object.fromEntries([...gaps].map(([type, xs]) => [type, mean(xs)])),
    count: Object.fromEntries([...gaps].map(([type, xs]) => [type, xs.length])),
  };
}
