import { describe, expect, it } from 'vitest';
import { canaryMinItems } from '../../src/config/canary-config';
import { parseRunConfig } from '../../src/config/run-config';
import { ConfigError } from '../../src/config/validation-error';

const good = { steps: 2, rollouts: { type: 'directory', path: 'r' } };

function issuesOf(input: unknown): string[] {
  try {
    parseRunConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('canary run config', () => {
  it('is optional, and fills perStep, floor and the floor’s minimum when given', () => {
    expect(parseRunConfig(good).canary).toBeUndefined();
    const config = parseRunConfig({ ...good, canary: { file: 'gold.jsonl' } });
    expect(config.canary).toEqual({ file: 'gold.jsonl', perStep: 8, floor: 0.75 });
    expect(canaryMinItems(config.canary!)).toBe(4);
    expect(canaryMinItems(parseRunConfig({ ...good, canary: { file: 'g', perStep: 2 } }).canary!)).toBe(2);
    expect(canaryMinItems(parseRunConfig({ ...good, canary: { file: 'g', perStep: 10, minItems: 7 } }).canary!)).toBe(7);
  });

  it.each([
    [{ canary: {} }, /^canary\.file: /],
    [{ canary: { file: '' } }, /^canary\.file: /],
    [{ canary: { file: 'g', perStep: 0 } }, /^canary\.perStep: /],
    [{ canary: { file: 'g', perStep: 2.5 } }, /^canary\.perStep: /],
    [{ canary: { file: 'g', floor: 1.5 } }, /^canary\.floor: /],
    [{ canary: { file: 'g', floor: -0.1 } }, /^canary\.floor: /],
    [{ canary: { file: 'g', perStep: 4, minItems: 5 } }, /^canary\.minItems: 5 is more than canary\.perStep \(4\)/],
    [{ canary: { file: 'g', flor: 0.8 } }, /^canary: .*flor/],
    [{ canary: 'gold.jsonl' }, /^canary: /],
  ])('names the bad field: %j', (extra, pattern) => {
    const issues = issuesOf({ ...good, ...extra });
    expect(issues.some((i) => pattern.test(i)), issues.join('\n')).toBe(true);
  });

  it('refuses canaries with a preference judge: gold items are pass/fail', () => {
    const judge = {
      provider: 'bedrock',
      model: 'm',
      mode: 'preference',
      rubric: { criteria: [{ id: 'ok', description: 'is ok' }] },
    };
    const issues = issuesOf({ ...good, judge, canary: { file: 'g' } });
    expect(issues).toEqual([expect.stringMatching(/^canary: .*rubric mode; this run's judge\.mode is preference/)]);
  });
});
