import { describe, expect, it } from 'vitest';
import { formatComponent } from '../../src/rewards/components/format';
import { parseRewardConfig } from '../../src/config/reward-config';
import { rollout } from '../support/fixtures';

const json = parseRewardConfig({ format: { json: true } }).format;
const withFields = parseRewardConfig({ format: { json: true, requiredFields: ['answer', 'confidence'] } }).format;
const score = (response: string, config = withFields) => formatComponent(rollout('r', { response }), config);

describe('formatComponent', () => {
  it('checks nothing when json is off', () => {
    expect(formatComponent(rollout('r', { response: 'plain text' }), parseRewardConfig({}).format)).toEqual({ value: 1 });
  });

  it('accepts bare JSON with every required field', () => {
    expect(score('{"answer": "Paris", "confidence": 0.9}')).toEqual({ value: 1 });
    expect(score('  {"answer": null, "confidence": 0}\n')).toEqual({ value: 1 });
  });

  it('accepts JSON inside a single json fence', () => {
    expect(score('```json\n{"answer": "Paris", "confidence": 0.9}\n```')).toEqual({ value: 1 });
    expect(score('```JSON\n{"answer": "Paris", "confidence": 0.9}```')).toEqual({ value: 1 });
    expect(score('```\n[1, 2]\n```', json)).toEqual({ value: 1 });
  });

  it('rejects prose around the fence and two fences', () => {
    expect(score('Here you go:\n```json\n{"answer": "Paris", "confidence": 0.9}\n```')).toEqual({ value: 0, note: 'not JSON' });
    expect(score('```json\n{"answer": 1}\n```\n```json\n{"confidence": 1}\n```')).toEqual({ value: 0, note: 'not JSON' });
  });

  it('gives 0 to an empty or non-JSON response', () => {
    expect(score('')).toEqual({ value: 0, note: 'empty response' });
    expect(score('   ', json)).toEqual({ value: 0, note: 'empty response' });
    expect(score('{"answer": "Paris",}')).toEqual({ value: 0, note: 'not JSON' });
  });

  it('gives partial credit for missing required fields and names them', () => {
    expect(score('{"answer": "Paris"}')).toEqual({ value: 0.75, note: 'missing confidence' });
    expect(score('{}')).toEqual({ value: 0.5, note: 'missing answer, confidence' });
    // Only top-level keys count.
    expect(score('{"data": {"answer": "Paris", "confidence": 1}}').value).toBe(0.5);
  });

  it('requires an object when fields are required, any JSON value otherwise', () => {
    expect(score('["answer", "confidence"]')).toEqual({ value: 0.5, note: 'JSON is not an object' });
    expect(score('42', json)).toEqual({ value: 1 });
  });

  it('caps the list of missing fields in the note', () => {
    const many = parseRewardConfig({ format: { json: true, requiredFields: ['a', 'b', 'c', 'd', 'e'] } }).format;
    expect(score('{"a": 1}', many)).toEqual({ value: 0.6, note: 'missing b, c, d +1' });
  });
});
