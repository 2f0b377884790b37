import { z } from 'zod';
import { describeZodIssues } from '../config/validation-error';

export const CriterionVerdictSchema = z.object({
  id: z.string(),
  pass: z.boolean(),
  evidence: z.string(),
});

// Not .strict(): an extra key such as "score" costs nothing, while a re-ask costs a call.
export const RubricVerdictSchema = z.object({
  criteria: z.array(CriterionVerdictSchema),
  rationale: z.string(),
});
export type RubricVerdict = z.output<typeof RubricVerdictSchema>;

export const PreferenceVerdictSchema = z.object({
  winner: z.enum(['A', 'B', 'tie']),
  rationale: z.string(),
});
export type PreferenceVerdict = z.output<typeof PreferenceVerdictSchema>;

export type VerdictFailureReason = 'parse' | 'schema' | 'refusal';

export type VerdictParse<T> = { ok: true; value: T } | { ok: false; reason: VerdictFailureReason; message: string };

// Candidates are capped so a pathological answer full of braces cannot make the scan quadratic
// in practice; a real verdict is among the first few objects.
const MAX_CANDIDATES = 20;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function tryParseObject(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? { value } : { error: 'JSON value is not an object' };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Index of the `}` closing the object that opens at `start`, ignoring braces inside strings. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

export interface JsonCandidate {
  value: Record<string, unknown>;
  /** Where the object starts in the answer. */
  at: number;
}

export type JsonExtraction =
  | {
      ok: true;
      candidates: JsonCandidate[];
      /** First `{` that is never closed: every candidate after it is nested in a cut-off object. */
      unclosedAt: number | undefined;
    }
  | { ok: false; message: string };

/**
 * Finds the JSON objects in a judge's answer, most likely verdict first: the whole answer,
 * then ```json fenced blocks, then balanced top-level `{…}` spans in prose.
 */
export function extractJsonObjects(text: string): JsonExtraction {
  const whole = tryParseObject(text.trim());
  if ('value' in whole) return { ok: true, candidates: [{ value: whole.value, at: 0 }], unclosedAt: undefined };

  const candidates: JsonCandidate[] = [];
  let firstError: string | undefined;
  for (const fence of text.matchAll(/```[ \t]*(?:json|JSON)?[ \t]*\r?\n([\s\S]*?)```/g)) {
    const parsed = tryParseObject((fence[1] ?? '').trim());
    if ('value' in parsed) candidates.push({ value: parsed.value, at: fence.index });
    else firstError ??= parsed.error;
  }

  let unclosedAt: number | undefined;
  let start = text.indexOf('{');
  while (start >= 0 && candidates.length < MAX_CANDIDATES) {
    const end = balancedEnd(text, start);
    if (end === undefined) {
      // Keep scanning inside it: a stray "{" in prose must not hide the verdict after it.
      unclosedAt ??= start;
      firstError ??= 'a "{" is never closed (answer cut off?)';
      start = text.indexOf('{', start + 1);
      continue;
    }
    const parsed = tryParseObject(text.slice(start, end + 1));
    if ('value' in parsed) {
      candidates.push({ value: parsed.value, at: start });
      start = text.indexOf('{', end + 1);
    } else {
      firstError ??= parsed.error;
      start = text.indexOf('{', start + 1);
    }
  }

  if (candidates.length > 0) return { ok: true, candidates, unclosedAt };
  if (firstError !== undefined) return { ok: false, message: `no valid JSON object in the answer: ${firstError}` };
  return { ok: false, message: 'the answer contains no JSON object' };
}

const REFUSAL_PATTERNS = [
  /\bI(?: am|'m)? ?(?:can ?not|can't|won't|will not|am unable to|'m unable to|am not able to|'m not able to)\s+(?:\w+\s+){0,3}?(?:help|assist|comply|provide|evaluate|grade|judge|rate|review|do that|do this|fulfil|fulfill|engage|continue|participate)/i,
  /\bI (?:must|have to|need to) (?:respectfully )?(?:decline|refuse)\b/i,
  /\bI (?:respectfully )?(?:decline|refuse) to\b/i,
  /\bI'm sorry,? but\b/i,
  /\bI apologi[sz]e,? but\b/i,
  /\bas an AI\b/i,
];

/** True when an answer without JSON reads as the judge model declining the task. */
export function looksLikeRefusal(text: string): boolean {
  const normalised = text.replace(/[\u2018\u2019\u02bc]/g, "'");
  return REFUSAL_PATTERNS.some((pattern) => pattern.test(normalised));
}

function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Validates the candidates in order and returns the first that passes; when none does, the
 * error of the first, since that is the one the judge most likely meant as its verdict.
 */
function firstValid<T>(
  text: string,
  check: (candidate: Record<string, unknown>) => VerdictParse<T>,
): VerdictParse<T> {
  const extracted = extractJsonObjects(text);
  if (!extracted.ok) {
    if (text.trim() === '') return { ok: false, reason: 'parse', message: 'the answer is empty' };
    if (looksLikeRefusal(text)) {
      return { ok: false, reason: 'refusal', message: `the judge declined to answer: "${excerpt(text)}"` };
    }
    return { ok: false, reason: 'parse', message: extracted.message };
  }
  let first: { candidate: JsonCandidate; result: VerdictParse<T> } | undefined;
  for (const candidate of extracted.candidates) {
    const result = check(candidate.value);
    if (result.ok) return result;
    first ??= { candidate, result };
  }
  if (first === undefined) return { ok: false, reason: 'parse', message: 'the answer contains no JSON object' };
  const { unclosedAt } = extracted;
  if (unclosedAt !== undefined && first.candidate.at > unclosedAt) {
    // Only fragments of an object that was cut off (e.g. at maxTokens): a schema complaint
    // about a fragment would mislead the re-ask.
    return { ok: false, reason: 'parse', message: 'the JSON object is never closed (answer cut off?)' };
  }
  return first.result;
}

function schemaError(error: z.ZodError): { ok: false; reason: 'schema'; message: string } {
  return { ok: false, reason: 'schema', message: describeZodIssues(error).join('; ') };
}

/**
 * Parses a rubric verdict and checks it lists every rubric criterion exactly once and no
 * other; the returned criteria follow the rubric's order.
 */
export function parseRubricVerdict(text: string, criterionIds: readonly string[]): VerdictParse<RubricVerdict> {
  return firstValid(text, (candidate) => {
    const parsed = RubricVerdictSchema.safeParse(candidate);
    if (!parsed.success) return schemaError(parsed.error);
    const expected = new Set(criterionIds);
    const byId = new Map<string, RubricVerdict['criteria'][number]>();
    const problems: string[] = [];
    for (const verdict of parsed.data.criteria) {
      if (!expected.has(verdict.id)) problems.push(`unknown criterion id "${verdict.id}"`);
      else if (byId.has(verdict.id)) problems.push(`criterion "${verdict.id}" is listed more than once`);
      else byId.set(verdict.id, verdict);
    }
    const missing = criterionIds.filter((id) => !byId.has(id));
    if (missing.length > 0) problems.push(`missing criteria: ${missing.map((id) => `"${id}"`).join(', ')}`);
    if (problems.length > 0) return { ok: false, reason: 'schema', message: problems.join('; ') };
    const criteria = criterionIds.map((id) => byId.get(id)!);
    return { ok: true, value: { criteria, rationale: parsed.data.rationale } };
  });
}

export function parsePreferenceVerdict(text: string): VerdictParse<PreferenceVerdict> {
  return firstValid(text, (candidate) => {
    const parsed = PreferenceVerdictSchema.safeParse(candidate);
    return parsed.success ? { ok: true, value: parsed.data } : schemaError(parsed.error);
  });
}
