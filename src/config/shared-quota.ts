import { z } from 'zod';

/**
 * One provider account shared by many worker processes and runs (issue 21). The run's chunks go
 * to `taskQueue`, whose dispatch rate Temporal's matching service limits for every worker that
 * polls it (`judge.quota.requestsPerMinute`, the account's, in tasks of `callsPerTask` rollouts)
 * and shares between runs by fairness key (the run's workflow id) in proportion to `weight`.
 * The queue's limit is set by the run at its start (UpdateTaskQueueConfig); runs that share a
 * queue state the same quota and `callsPerTask`.
 */
export const SharedQuotaSchema = z
  .object({
    /** The account's judge queue: `npm run worker` polls it when ARBITER_JUDGE_TASK_QUEUES names it. */
    taskQueue: z.string().min(1).max(1000),
    /** This run's share relative to the other runs on the queue (Temporal clamps to 0.001–1000). */
    weight: z.number().min(0.001).max(1000).default(1),
    /**
     * Rollouts per chunk on the queue, one judge call each in rubric mode: the unit the queue's
     * rate is counted in. Smaller = smoother and fairer, larger = fewer activities per step.
     */
    callsPerTask: z.number().int().min(1).max(256).default(4),
    /**
     * Share of the quota the queue leaves unused: a throttled call is tried again inside its
     * chunk, unseen by the queue's pace, and without room those retries meet the limit again.
     */
    margin: z.number().min(0).max(0.5).default(0.03),
  })
  .strict();

export type SharedQuota = z.output<typeof SharedQuotaSchema>;

/** A judge that may share an account's quota. */
interface QuotaJudge {
  provider: string;
  sharedQuota?: SharedQuota;
  quota?: { requestsPerMinute: number };
}

/** The shared quota of a run's judge, when it has one. */
export function sharedQuotaOf(judge: QuotaJudge): SharedQuota | undefined {
  return judge.provider === 'offline-heuristic' ? undefined : judge.sharedQuota;
}

/**
 * How a step is cut into chunks. On a shared queue every chunk is `callsPerTask` rollouts,
 * however large the step (the queue's rate counts tasks, so their size must be known); otherwise
 * the run's chunk size, grown so a step needs at most `maxChunksPerStep` activities.
 */
export function chunkingOf(config: { judge: QuotaJudge; chunkSize: number; maxChunksPerStep: number }): { chunkSize: number; maxChunks: number } {
  const shared = sharedQuotaOf(config.judge);
  if (shared) return { chunkSize: shared.callsPerTask, maxChunks: Number.MAX_SAFE_INTEGER };
  return { chunkSize: config.chunkSize, maxChunks: config.maxChunksPerStep };
}

/**
 * Chunks of a step a run keeps scheduled at once. On a shared queue at least 32: the queue's
 * fairness chooses among the chunks waiting in it, and a run with few waiting gets less than its
 * weight (bench:quota, weights 2:1:1: 0.41 of the calls with 8, 0.52 with 32; fair 0.5).
 */
export const SHARED_MIN_CHUNKS_IN_FLIGHT = 32;

export function chunksInFlightOf(config: { judge: QuotaJudge; maxChunksInFlight: number }): number {
  return sharedQuotaOf(config.judge) ? Math.max(config.maxChunksInFlight, SHARED_MIN_CHUNKS_IN_FLIGHT) : config.maxChunksInFlight;
}

/** The queue's dispatch rate: the account's requests per second, less the margin, in tasks of `callsPerTask` calls. */
export function sharedQueueTasksPerSecond(shared: SharedQuota, requestsPerMinute: number): number {
  return (requestsPerMinute / 60) * (1 - shared.margin) / shared.callsPerTask;
}

/** A shared judge's queue and the pace the run sets it to; undefined when the judge shares nothing. */
export function sharedPaceOf(judge: QuotaJudge): { shared: SharedQuota; requestsPerMinute: number; tasksPerSecond: number } | undefined {
  const shared = sharedQuotaOf(judge);
  if (!shared || !judge.quota) return undefined;
  const { requestsPerMinute } = judge.quota;
  return { shared, requestsPerMinute, tasksPerSecond: sharedQueueTasksPerSecond(shared, requestsPerMinute) };
}

/**
 * Temporal's fairness key for a workflow: at most 64 bytes. Ids that fit are used as they are
 * (readable in the Web UI); longer ones keep their first 55 characters and an FNV-1a hash of
 * the whole, so two long ids with one prefix stay apart. Pure: workflows call it.
 */
export function fairnessKeyOf(workflowId: string): string {
  if (utf8Length(workflowId) <= 64) return workflowId;
  let hash = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) {
    hash ^= workflowId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // 55 UTF-16 units may still be more bytes; keep ASCII-safe characters only in the prefix.
  const prefix = workflowId.slice(0, 55).replace(/[^\x20-\x7e]/g, '_');
  return `${prefix}~${hash.toString(16).padStart(8, '0')}`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? (i++, 4) : 3;
  }
  return n;
}
