import type { Rollout } from '../../config/rollout';
import type { FormatConfig } from '../../config/reward-config';
import type { ComponentResult } from './component-result';

// Models often wrap JSON in a fence even when told not to; one fence around the whole answer is
// still a machine-readable answer, prose around it is not.
const SINGLE_FENCE = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i;
const MAX_NAMED_MISSING = 3;

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJsonResponse(response: string): Parsed {
  const trimmed = response.trim();
  const body = SINGLE_FENCE.exec(trimmed)?.[1] ?? trimmed;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

/**
 * Valid JSON earns half the value and the required fields the other half, in proportion, so a
 * policy that gets closer to the format gets a gradient instead of a cliff.
 */
export function formatComponent(rollout: Rollout, config: FormatConfig): ComponentResult {
  if (!config.json) return { value: 1 };
  const parsed = parseJsonResponse(rollout.response);
  if (!parsed.ok) return { value: 0, note: rollout.response.trim() === '' ? 'empty response' : 'not JSON' };
  const required = config.requiredFields;
  if (required.length === 0) return { value: 1 };
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { value: 0.5, note: 'JSON is not an object' };
  }
  const missing = required.filter((field) => !Object.hasOwn(value, field));
  if (missing.length === 0) return { value: 1 };
  const named = missing.slice(0, MAX_NAMED_MISSING).join(', ');
  const more = missing.length > MAX_NAMED_MISSING ? ` +${missing.length - MAX_NAMED_MISSING}` : '';
  return { value: 0.5 + (0.5 * (required.length - missing.length)) / required.length, note: `missing ${named}${more}` };
}
