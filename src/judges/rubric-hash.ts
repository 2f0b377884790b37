import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json';
import { PROMPT_VERSION } from './prompts/prompt-version';
import { RubricSchema, type RubricInput } from '../config/rubric';

// Kept apart from rubric.ts because node:crypto is not available in the workflow sandbox.

/**
 * Identifies "what the judge is asked": the rubric after defaults are applied (an omitted
 * weight and `weight: 1` hash alike) plus PROMPT_VERSION. Hex sha256.
 */
export function rubricHash(rubric: RubricInput): string {
  const normalised = RubricSchema.parse(rubric);
  return createHash('sha256').update(`${PROMPT_VERSION}\n${canonicalJson(normalised)}`).digest('hex');
}
