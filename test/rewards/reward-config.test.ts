import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/validation-error';
import { parseRewardConfig } from '../../src/config/reward-config';

function issuesOf(input: unknown): string[] {
  try {
    parseRewardConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseRewardConfig', () => {
  it('fills every default from {}', () => {
    expect(parseRewardConfig({})).toEqual({
      weights: { judge: 1, format: 0, length: 0, language: 0, safety: 0 },
      format: { json: false, requiredFields: [] },
      length: { unit: 'chars', min: 0, tolerance: 0.5 },
      language: { match: 'prompt', minLength: 20 },
      safety: { patterns: [], categories: ['pii-email', 'pii-phone', 'credential', 'self-harm'], veto: true },
      minReward: 0,
      maxReward: 1,
    });
    expect(parseRewardConfig(undefined).weights.judge).toBe(1);
  });

  it('keeps defaults for the fields a partial section leaves out', () => {
    const config = parseRewardConfig({ weights: { format: 2 }, format: { json: true } });
    expect(config.weights).toEqual({ judge: 1, format: 2, length: 0, language: 0, safety: 0 });
    expect(config.format).toEqual({ json: true, requiredFields: [] });
  });

  it('names a negative weight', () => {
    expect(issuesOf({ weights: { judge: -1 } })).toEqual([expect.stringMatching(/^weights\.judge: /)]);
  });

  it('rejects all-zero weights with a clear message', () => {
    expect(issuesOf({ weights: { judge: 0 } })).toEqual([
      'weights: at least one weight must be positive, otherwise there is no reward to compute',
    ]);
  });

  it('names unknown keys at every level', () => {
    const issues = issuesOf({ weights: { jugde: 1 }, format: { jsn: true }, extra: 1 });
    expect(issues).toContain('weights: Unrecognized key: "jugde"');
    expect(issues).toContain('format: Unrecognized key: "jsn"');
    expect(issues).toContain('(root): Unrecognized key: "extra"');
  });

  it('names a bad regex with its pattern id', () => {
    const issues = issuesOf({ safety: { patterns: [{ id: 'ok', regex: 'a+' }, { id: 'broken', regex: '(unclosed' }] } });
    expect(issues).toEqual([expect.stringMatching(/^safety\.patterns\.1\.regex: pattern "broken": .*Invalid regular expression/)]);
  });

  it('names the first pattern as safety.patterns.0.regex', () => {
    expect(issuesOf({ safety: { patterns: [{ id: 'p', regex: '[z-a]' }] } })[0]).toMatch(/^safety\.patterns\.0\.regex: pattern "p"/);
  });

  it('rejects stateful regex flags and duplicate pattern ids', () => {
    expect(issuesOf({ safety: { patterns: [{ id: 'p', regex: 'a', flags: 'gi' }] } })[0]).toMatch(/^safety\.patterns\.0\.flags: /);
    expect(
      issuesOf({ safety: { patterns: [{ id: 'p', regex: 'a' }, { id: 'p', regex: 'b' }] } }),
    ).toEqual(['safety.patterns.1.id: duplicate pattern id "p"']);
  });

  it('rejects unknown safety categories', () => {
    expect(issuesOf({ safety: { categories: ['pii-ssn'] } })[0]).toMatch(/^safety\.categories\.0: /);
  });

  it('validates the language match', () => {
    expect(parseRewardConfig({ language: { match: 'deu' } }).language.match).toBe('deu');
    expect(issuesOf({ language: { match: 'en' } })[0]).toMatch(/^language\.match: expected "prompt" or an ISO 639-3 code/);
    expect(issuesOf({ language: { match: 'und' } })[0]).toMatch(/^language\.match: /);
    expect(issuesOf({ language: { match: 'deu', only: ['eng', 'fra'] } })).toEqual([
      'language.only: must include the language given in match',
    ]);
  });

  it('checks length bounds and the reward range', () => {
    expect(issuesOf({ length: { min: 10, max: 5 } })).toEqual(['length.max: must be at least min']);
    expect(issuesOf({ minReward: 1, maxReward: 1 })).toEqual(['maxReward: must be greater than minReward']);
    expect(parseRewardConfig({ minReward: -1, maxReward: 1 }).minReward).toBe(-1);
  });

  it('reports only the real problem when a field has the wrong type', () => {
    expect(issuesOf({ weights: { length: 1 }, length: { min: 'ten', max: 5 } })).toEqual([
      expect.stringMatching(/^length\.min: /),
    ]);
  });

  it('rejects required fields without json', () => {
    expect(issuesOf({ format: { requiredFields: ['answer'] } })).toEqual([
      'format.requiredFields: needs format.json: true (fields are looked up in the JSON response)',
    ]);
  });

  it('rejects a positive weight on a component with nothing to check', () => {
    expect(issuesOf({ weights: { format: 1 } })).toEqual(['weights.format: is positive but format.json is false: nothing to check']);
    expect(issuesOf({ weights: { length: 1 } })).toEqual([
      'weights.length: is positive but length sets neither min nor max: nothing to check',
    ]);
    expect(issuesOf({ weights: { safety: 1 }, safety: { categories: [] } })).toEqual([
      'weights.safety: is positive but safety has no categories and no patterns: nothing to check',
    ]);
  });
});
