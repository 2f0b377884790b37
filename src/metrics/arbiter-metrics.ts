import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import type { StepSummary } from '../contract/step-summary';

/**
 * Arbiter's own metrics, recorded through the Temporal SDK's metric meter so they leave the
 * worker by the same exporter as Temporal's (Prometheus, see src/worker/metrics.ts).
 * Until a worker turns metrics on, the meter is the SDK's no-op one: tests, the CLI and
 * benchmarks record nothing and pay nothing.
 *
 * Counters are integers in the SDK, so cost is counted in micro-dollars.
 */
export const METRIC_NAMES = {
  judgeCalls: 'arbiter_judge_calls',
  judgeThrottles: 'arbiter_judge_throttles',
  judgeLatency: 'arbiter_judge_call_latency_seconds',
  judgeTokens: 'arbiter_judge_tokens',
  costMicroUsd: 'arbiter_estimated_cost_microusd',
  rollouts: 'arbiter_rollouts',
  fallbacks: 'arbiter_fallbacks',
  quarantined: 'arbiter_quarantined_lines',
  steps: 'arbiter_steps_checkpointed',
  limiterRpm: 'arbiter_limiter_requests_per_minute',
  limiterInFlight: 'arbiter_limiter_in_flight',
  limiterQueued: 'arbiter_limiter_queued',
} as const;

function instruments(meter: MetricMeter) {
  const n = METRIC_NAMES;
  return {
    judgeCalls: meter.createCounter(n.judgeCalls, 'calls', 'Judge model calls (every HTTP attempt), by model and outcome (ok or the failure reason)'),
    judgeThrottles: meter.createCounter(n.judgeThrottles, 'calls', 'Judge model calls the provider throttled'),
    judgeLatency: meter.createHistogram(n.judgeLatency, 'float', 's', 'Latency of one judge model call'),
    judgeTokens: meter.createCounter(n.judgeTokens, 'tokens', 'Judge tokens by kind: input (full price), output, cache_read, cache_write'),
    costMicroUsd: meter.createCounter(n.costMicroUsd, 'microusd', "Estimated judge cost of checkpointed steps, from the run's price table"),
    rollouts: meter.createCounter(n.rollouts, 'rollouts', 'Rollouts of checkpointed steps, by status (scored, fallback, excluded)'),
    fallbacks: meter.createCounter(n.fallbacks, 'rollouts', 'Rollouts that got the fallback reward (or were excluded), by judge failure reason'),
    quarantined: meter.createCounter(n.quarantined, 'lines', 'Rollout lines quarantined (broken, duplicate, oversized)'),
    steps: meter.createCounter(n.steps, 'steps', 'Steps checkpointed'),
    limiterRpm: meter.createGauge(n.limiterRpm, 'float', 'rpm', "The quota limiter's current (AIMD) request rate"),
    limiterInFlight: meter.createGauge(n.limiterInFlight, 'int', 'calls', 'Judge calls in flight under the limiter'),
    limiterQueued: meter.createGauge(n.limiterQueued, 'int', 'calls', 'Judge calls waiting for the limiter'),
  };
}

let meter: MetricMeter = noopMetricMeter;
let current: ReturnType<typeof instruments> | undefined;

/** The worker turns metrics on with the runtime's meter (src/worker/metrics.ts). */
export function useMetricMeter(next: MetricMeter): void {
  meter = next;
  current = undefined;
}

function m(): ReturnType<typeof instruments> {
  return (current ??= instruments(meter));
}

/** Tokens one call used, as the judges count them (metrics sit below the judges, which record through them). */
export interface CallTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** One judge model call (one HTTP attempt) and how it ended. */
export function recordJudgeCall(model: string, outcome: string, latencyMs: number, usage?: CallTokens): void {
  const tags = { model };
  m().judgeCalls.add(1, { ...tags, outcome });
  if (outcome === 'throttled') m().judgeThrottles.add(1, tags);
  m().judgeLatency.record(Math.max(0, latencyMs) / 1000, tags);
  if (!usage) return;
  const tokens = m().judgeTokens;
  tokens.add(usage.inputTokens, { ...tags, kind: 'input' });
  tokens.add(usage.outputTokens, { ...tags, kind: 'output' });
  if (usage.cacheReadInputTokens) tokens.add(usage.cacheReadInputTokens, { ...tags, kind: 'cache_read' });
  if (usage.cacheWriteInputTokens) tokens.add(usage.cacheWriteInputTokens, { ...tags, kind: 'cache_write' });
}

export function recordLimiter(model: string, snapshot: { effectiveRequestsPerMinute: number; inFlight: number; queued: number }): void {
  const tags = { model };
  m().limiterRpm.set(snapshot.effectiveRequestsPerMinute, tags);
  m().limiterInFlight.set(snapshot.inFlight, tags);
  m().limiterQueued.set(snapshot.queued, tags);
}

/** A step made durable: its rollouts, fallbacks, quarantined lines and estimated cost. */
export function recordStep(runId: string, summary: StepSummary): void {
  const tags = { run_id: runId };
  m().steps.add(1, tags);
  m().rollouts.add(summary.scored, { ...tags, status: 'scored' });
  m().rollouts.add(summary.fallback, { ...tags, status: 'fallback' });
  m().rollouts.add(summary.excluded, { ...tags, status: 'excluded' });
  for (const [reason, count] of Object.entries(summary.fallbackByReason)) {
    if (count) m().fallbacks.add(count, { ...tags, reason });
  }
  m().quarantined.add(summary.quarantined, tags);
  m().costMicroUsd.add(Math.round(summary.costUsd * 1e6), tags);
}
