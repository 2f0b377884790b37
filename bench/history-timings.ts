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

