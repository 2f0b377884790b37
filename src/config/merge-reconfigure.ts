import type { ReconfigureRequest } from './controls';
import type { RunConfig } from './run-config';

// Pure: the workflow applies reconfigure requests with it.

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `base` with `patch` laid over it: objects merge key by key, anything else (numbers, strings,
 * arrays such as a rubric's criteria) is replaced whole. So `{"review": {"samples": 5}}`
 * changes the samples and nothing else of the review.
 */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlain(base) || !isPlain(patch)) return (patch === undefined ? base : patch) as T;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) out[key] = deepMerge(out[key], value);
  }
  return out as T;
}

/**
 * The run config a reconfigure request asks for, before validation. Fields are named as in the
 * config file; the names of Arbiter 0.1 (`weights`, `fallbackMaxRate`) still work. A judge of
 * another provider replaces the judge whole: its fields would not mix with the old provider's.
 */
export function mergeReconfigure(config: RunConfig, request: ReconfigureRequest): unknown {
  const { weights, fallbackMaxRate, judge, ...rest } = request;
  const patch: Plain = { ...rest };
  if (weights) patch.rewards = deepMerge({ weights }, rest.rewards);
  if (fallbackMaxRate !== undefined) patch.fallback = deepMerge({ maxRate: fallbackMaxRate }, rest.fallback);
  const merged = deepMerge(config, patch) as Plain;
  if (judge) {
    const sameProvider = judge.provider === undefined || judge.provider === config.judge.provider;
    merged.judge = sameProvider ? deepMerge(config.judge, judge) : judge;
  }
  return merged;
}
