import { createHash } from 'node:crypto';
import { PROMPT_VERSION } from './prompts/prompt-version';
import { RubricSchema, type RubricInput } from '../config/rubric';

// Kept apart from rubric.ts because node:crypto is not available in the workflow sandbox.

/** JSON with object keys sorted at every level, so key order in the config file does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Identifies "what the judge is asked": the rubric after defaults are applied (an omitted
 * weight and `weight: 1` hash alike) plus PROMPT_VERSION. Hex sha256.
 */
export function rubricHash(rubric: RubricInput): string {
  const normalised = RubricSchema.parse(rubric);
  return createHash('sha256').update(`${PROMPT_VERSION}\n${canonicalJson(normalised)}`).digest('hex');
}
