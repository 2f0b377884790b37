import { describe, expect, it } from 'vitest';
import { extractJsonObjects, looksLikeRefusal, parsePreferenceVerdict, parseRubricVerdict } from '../../src/judges/parse-verdict';

const IDS = ['accuracy', 'clarity'];
const GOOD = {
  criteria: [
    { id: 'accuracy', pass: true, evidence: 'says "Paris"' },
    { id: 'clarity', pass: false, evidence: 'rambles in paragraph 2' },
  ],
  rationale: 'Correct but unclear.',
};
const GOOD_JSON = JSON.stringify(GOOD);

describe('extracting JSON', () => {
  it('accepts a bare object, with surrounding whitespace', () => {
    expect(parseRubricVerdict(`\n  ${GOOD_JSON}  \n`, IDS)).toEqual({ ok: true, value: GOOD });
  });

  it('accepts a ```json fenced block inside prose', () => {
    const text = `Here is my verdict:\n\n\`\`\`json\n${JSON.stringify(GOOD, null, 2)}\n\`\`\`\nHope this helps.`;
    expect(parseRubricVerdict(text, IDS)).toEqual({ ok: true, value: GOOD });
  });

  it('accepts a fence without a language tag', () => {
    expect(parseRubricVerdict(`\`\`\`\n${GOOD_JSON}\n\`\`\``, IDS)).toEqual({ ok: true, value: GOOD });
  });

  it('finds one object embedded in prose, with braces and escaped quotes inside strings', () => {
    const tricky = {
      ...GOOD,
      criteria: [{ id: 'accuracy', pass: true, evidence: 'writes "}" then {x} and \\"{\\"' }, GOOD.criteria[1]],
    };
    const text = `After careful thought, my answer is ${JSON.stringify(tricky)} and that is final.`;
    expect(parseRubricVerdict(text, IDS)).toEqual({ ok: true, value: tricky });
  });

  it('is not thrown off by a stray unclosed brace before the verdict', () => {
    const text = `Note: the response uses set notation { 1, 2 and ... anyway: ${GOOD_JSON}`;
    expect(parseRubricVerdict(text, IDS)).toEqual({ ok: true, value: GOOD });
  });

  it('skips an object that fails the schema and takes the next valid one', () => {
    const text = `The format asks for {"criteria": "..."}; here it is: ${GOOD_JSON}`;
    expect(parseRubricVerdict(text, IDS)).toEqual({ ok: true, value: GOOD });
  });

  it('returns candidates in order of likelihood', () => {
    const result = extractJsonObjects('a {"x":1} b {"y":{"z":2}} c');
    expect(result.ok && result.candidates.map((c) => c.value)).toEqual([{ x: 1 }, { y: { z: 2 } }]);
  });

  it('reports an answer without JSON as a parse failure', () => {
    const result = parseRubricVerdict('The response is pretty good overall.', IDS);
    expect(result).toMatchObject({ ok: false, reason: 'parse' });
  });

  it('reports an empty answer as a parse failure', () => {
    expect(parseRubricVerdict('   ', IDS)).toMatchObject({ ok: false, reason: 'parse', message: 'the answer is empty' });
  });

  it('reports a cut-off object as a parse failure, not as a schema error about a fragment', () => {
    const cut = '{"criteria":[{"id":"accuracy","pass":true,"evidence":"x"},{"id":"clarity","pass":';
    const result = parseRubricVerdict(cut, IDS);
    expect(result).toMatchObject({ ok: false, reason: 'parse' });
    expect(!result.ok && result.message).toMatch(/cut off/);
  });

  it('reports invalid JSON syntax as a parse failure', () => {
    expect(parseRubricVerdict("{'criteria': []}", IDS)).toMatchObject({ ok: false, reason: 'parse' });
  });
});

describe('rubric verdict schema', () => {
  it('fails when a criterion is missing, naming it', () => {
    const result = parseRubricVerdict(JSON.stringify({ ...GOOD, criteria: [GOOD.criteria[0]] }), IDS);
    expect(result).toEqual({ ok: false, reason: 'schema', message: 'missing criteria: "clarity"' });
  });

  it('fails on a wrong type, naming the field', () => {
    const bad = { ...GOOD, criteria: [{ ...GOOD.criteria[0], pass: 'yes' }, GOOD.criteria[1]] };
    const result = parseRubricVerdict(JSON.stringify(bad), IDS);
    expect(result).toMatchObject({ ok: false, reason: 'schema' });
    expect(!result.ok && result.message).toMatch(/^criteria\.0\.pass: /);
  });

  it('fails when the rationale is missing', () => {
    const result = parseRubricVerdict(JSON.stringify({ criteria: GOOD.criteria }), IDS);
    expect(result).toMatchObject({ ok: false, reason: 'schema' });
    expect(!result.ok && result.message).toMatch(/^rationale: /);
  });

  it('fails on an unknown id and on a duplicate id', () => {
    const unknown = { ...GOOD, criteria: [...GOOD.criteria, { id: 'style', pass: true, evidence: '' }] };
    expect(parseRubricVerdict(JSON.stringify(unknown), IDS)).toEqual({
      ok: false,
      reason: 'schema',
      message: 'unknown criterion id "style"',
    });
    const dup = { ...GOOD, criteria: [...GOOD.criteria, GOOD.criteria[0]] };
    expect(parseRubricVerdict(JSON.stringify(dup), IDS)).toEqual({
      ok: false,
      reason: 'schema',
      message: 'criterion "accuracy" is listed more than once',
    });
  });

  it('returns criteria in rubric order and tolerates extra keys', () => {
    const shuffled = { criteria: [GOOD.criteria[1], GOOD.criteria[0]], rationale: 'r', score: 7 };
    const result = parseRubricVerdict(JSON.stringify(shuffled), IDS);
    expect(result.ok && result.value.criteria.map((c) => c.id)).toEqual(IDS);
  });
});

describe('judge refusals', () => {
  it.each([
    "I'm sorry, but I can't help with that.",
    'I cannot evaluate this content.',
    'I can’t assist with grading this request.',
    'As an AI, I must decline to rate material like this.',
    'I won\'t be able to help with this one.',
  ])('detects %j', (text) => {
    expect(looksLikeRefusal(text)).toBe(true);
    expect(parseRubricVerdict(text, IDS)).toMatchObject({ ok: false, reason: 'refusal' });
  });

  it('does not call ordinary prose without JSON a refusal', () => {
    expect(looksLikeRefusal('The response answers the question but cannot be called concise.')).toBe(false);
  });

  it('prefers a JSON verdict even when the answer also apologises', () => {
    expect(parseRubricVerdict(`I'm sorry, but this response is weak. ${GOOD_JSON}`, IDS)).toEqual({ ok: true, value: GOOD });
  });
});

describe('preference verdict', () => {
  it('parses A, B and tie, fenced or not', () => {
    expect(parsePreferenceVerdict('{"winner":"A","rationale":"r"}')).toEqual({ ok: true, value: { winner: 'A', rationale: 'r' } });
    expect(parsePreferenceVerdict('```json\n{"winner":"tie","rationale":"same"}\n```')).toMatchObject({
      ok: true,
      value: { winner: 'tie' },
    });
  });

  it('rejects other winners as a schema error', () => {
    const result = parsePreferenceVerdict('{"winner":"C","rationale":"r"}');
    expect(result).toMatchObject({ ok: false, reason: 'schema' });
    expect(!result.ok && result.message).toMatch(/^winner: /);
  });

  it('detects a refusal', () => {
    expect(parsePreferenceVerdict("I'm sorry, but I can't compare these.")).toMatchObject({ ok: false, reason: 'refusal' });
  });
});
