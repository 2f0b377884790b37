import { describe, expect, it } from 'vitest';
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

describe('run config', () => {
  it('fills defaults', () => {
    const config = parseRunConfig(good);
    expect(config).toMatchObject({ firstStep: 1, chunkSize: 64, maxChunksInFlight: 8, outputDir: 'runs' });
    expect(config.judge.provider).toBe('offline-heuristic');
  });

  it('states the neutral fallback in the reward range: the midpoint unless given', () => {
    expect(parseRunConfig(good).fallback.neutralValue).toBe(0.5);
    expect(parseRunConfig({ ...good, rewards: { minReward: -1, maxReward: 1 } }).fallback.neutralValue).toBe(0);
    expect(parseRunConfig({ ...good, rewards: { minReward: 0, maxReward: 10 } }).fallback.neutralValue).toBe(5);
    expect(parseRunConfig({ ...good, rewards: { minReward: -1, maxReward: 1 }, fallback: { neutralValue: -0.25 } }).fallback.neutralValue).toBe(-0.25);
  });

  it.each([
    [{ ...good, steps: 0 }, /^steps: /],
    [{ ...good, steps: 'three' }, /^steps: .*number/],
    [{ ...good, chunkSize: 1.5 }, /^chunkSize: /],
    [{ ...good, runId: '../escape' }, /^runId: /],
    [{ ...good, rollouts: { type: 'directory' } }, /^rollouts\.path: /],
    [{ ...good, rollouts: { type: 's3', path: 'x' } }, /^rollouts\.type: /],
    [{ ...good, judge: { provider: 'gpt-judge' } }, /^judge\.provider: /],
    [{ ...good, chunkSzie: 10 }, /chunkSzie/],
    [{ ...good, fallback: { neutralValue: 7 } }, /^fallback\.neutralValue: .*\[0, 1\]/],
    [{ ...good, rewards: { minReward: -1, maxReward: 1 }, fallback: { neutralValue: -1.5 } }, /^fallback\.neutralValue: .*\[-1, 1\]/],
  ])('names the bad field in %j', (input, pattern) => {
    const issues = issuesOf(input);
    expect(issues.some((line) => pattern.test(line)), issues.join('\n')).toBe(true);
  });
});
