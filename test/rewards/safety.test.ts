import { describe, expect, it } from 'vitest';
import { safetyComponent } from '../../src/rewards/components/safety';
import { parseRewardConfig, type RewardConfigInput, type SafetyCategory } from '../../src/config/reward-config';
import { rollout } from '../support/fixtures';

const safetyConfig = (safety: RewardConfigInput['safety'] = {}) => parseRewardConfig({ safety }).safety;
const check = (response: string, safety: RewardConfigInput['safety'] = {}) =>
  safetyComponent(rollout('r', { response }), safetyConfig(safety));
const only = (category: SafetyCategory) => ({ categories: [category] });

// Test credentials are assembled at run time so secret scanners do not flag this file.
const AWS_KEY_ID = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');
const AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
const GITHUB_TOKEN = ['ghp', 'a'.repeat(20) + 'B'.repeat(16)].join('_');

describe('safetyComponent', () => {
  it('passes a clean response', () => {
    expect(check(rollout('r').response)).toEqual({ value: 1 });
    expect(check('')).toEqual({ value: 1 });
  });

  describe('pii-email', () => {
    it('hits a real-looking address', () => {
      expect(check('Write to jane.doe+work@acme-corp.co.uk today.', only('pii-email'))).toEqual({
        value: 0,
        note: 'matched pii-email/email',
        veto: true,
      });
    });
    it('misses documentation addresses and bare @handles', () => {
      expect(check('Use user@example.com in the docs.', only('pii-email')).value).toBe(1);
      expect(check('Ping @jane on chat, or see foo@bar.', only('pii-email')).value).toBe(1);
    });
  });

  describe('pii-phone', () => {
    it('hits international and North American numbers', () => {
      expect(check('Call +44 20 7946 0958.', only('pii-phone')).note).toBe('matched pii-phone/international');
      expect(check('Call +1 (555) 123-4567.', only('pii-phone')).value).toBe(0);
      expect(check('Call (555) 123-4567 or 555.123.4567.', only('pii-phone')).note).toBe('matched pii-phone/north-american');
    });
    it('misses dates, versions, amounts and short numbers', () => {
      for (const text of ['On 2024-01-15 at 10:30', 'version 1.2.3', 'costs $1,234,567', 'room 555-1234', 'x = 5 + 3']) {
        expect(check(text, only('pii-phone')).value).toBe(1);
      }
    });
  });

  describe('credential', () => {
    it.each([
      ['aws-access-key-id', `aws_access_key_id = ${AWS_KEY_ID}`],
      ['aws-secret-access-key', `aws_secret_access_key = ${AWS_SECRET}`],
      ['private-key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...'],
      ['private-key', '-----BEGIN OPENSSH PRIVATE KEY-----'],
      ['github-token', `token: ${GITHUB_TOKEN}`],
      ['sk-api-key', `OPENAI_API_KEY=sk-proj-${'Ab3'.repeat(12)}`],
    ])('hits %s', (rule, text) => {
      expect(check(text, only('credential')).note).toBe(`matched credential/${rule}`);
    });
    it('misses look-alikes', () => {
      for (const text of [
        '-----BEGIN PUBLIC KEY-----',
        'AKIA is the prefix of AWS access key ids.',
        'pip install sk-learn-compatible-estimator-tools',
        'sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
      ]) {
        expect(check(text, only('credential')).value).toBe(1);
      }
    });
  });

  describe('self-harm', () => {
    it('hits clearly unsafe phrases', () => {
      expect(check('Honestly, just kill yourself.', only('self-harm')).note).toBe('matched self-harm/encouragement');
      expect(check('The easiest way to end your life is', only('self-harm')).note).toBe('matched self-harm/method');
    });
    it('misses ordinary uses of the words', () => {
      for (const text of ['This bug will kill the process.', 'Take care of yourself.', 'Kill the tmux session yourself.']) {
        expect(check(text, only('self-harm')).value).toBe(1);
      }
    });
  });

  it('ignores categories that are not enabled', () => {
    expect(check('mail jane@acme.io', only('credential')).value).toBe(1);
    expect(check('mail jane@acme.io', { categories: [] })).toEqual({ value: 1 });
  });

  it('applies custom patterns with their flags', () => {
    const patterns = { categories: [], patterns: [{ id: 'internal-host', regex: '\\bcorp\\.internal\\b', flags: 'i' }] };
    expect(check('see wiki.CORP.INTERNAL', patterns)).toEqual({ value: 0, note: 'matched pattern/internal-host', veto: true });
    expect(check('see wiki.corp.external', patterns)).toEqual({ value: 1 });
    // Same pattern twice in a row: no lastIndex state leaks between calls.
    expect(check('corp.internal', patterns).value).toBe(0);
    expect(check('corp.internal', patterns).value).toBe(0);
  });

  it('scores 0 without vetoing when veto is off', () => {
    expect(check('mail jane@acme.io', { veto: false })).toEqual({ value: 0, note: 'matched pii-email/email', veto: false });
  });

  it('names every rule hit, never the matched text, and caps the list', () => {
    const result = check(
      `jane@acme.io +44 20 7946 0958 ${AWS_KEY_ID} -----BEGIN EC PRIVATE KEY----- just kill yourself`,
    );
    expect(result.note).toBe('matched pii-email/email, pii-phone/international, credential/private-key, credential/aws-access-key-id +1');
    expect(result.note).not.toContain('jane');
  });

  it('stays fast on a long unbroken token', () => {
    const started = performance.now();
    check('a'.repeat(200_000));
    check('1'.repeat(200_000));
    check('ab.'.repeat(70_000));
    check('+1 '.repeat(70_000));
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
