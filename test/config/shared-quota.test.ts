import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { chunkingOf, chunksInFlightOf, fairnessKeyOf, sharedQueueTasksPerSecond } from '../../src/config/shared-quota';
import { ConfigError } from '../../src/config/validation-error';

const bedrock = (extra: Record<string, unknown>) => ({
  steps: 2,
  rollouts: { type: 'directory', path: 'r' },
  judge: { provider: 'bedrock', model: 'm', rubric: { criteria: [{ id: 'c', description: 'd' }] }, quota: { requestsPerMinute: 3000 }, ...extra },
});

describe('judge.sharedQuota', () => {
  it('fills its defaults and cuts every chunk to callsPerTask, however large the step', () => {
    const config = parseRunConfig(bedrock({ sharedQuota: { taskQueue: 'acct-a' } }));
    const judge = config.judge as { sharedQuota?: unknown };
    expect(judge.sharedQuota).toEqual({ taskQueue: 'acct-a', weight: 1, callsPerTask: 4, margin: 0.03 });
    expect(chunkingOf(config)).toEqual({ chunkSize: 4, maxChunks: Number.MAX_SAFE_INTEGER });
    // Without it, the run's own chunking.
    expect(chunkingOf(parseRunConfig(bedrock({})))).toEqual({ chunkSize: 64, maxChunks: 256 });
  });

  it('keeps at least 32 chunks of a step waiting on the shared queue, for its fairness to choose from', () => {
    expect(chunksInFlightOf(parseRunConfig(bedrock({ sharedQuota: { taskQueue: 'q' } })))).toBe(32);
    expect(chunksInFlightOf({ ...parseRunConfig(bedrock({ sharedQuota: { taskQueue: 'q' } })), maxChunksInFlight: 100 })).toBe(100);
    expect(chunksInFlightOf(parseRunConfig(bedrock({})))).toBe(8);
  });

  it('paces the queue at the account rate less the margin, in tasks', () => {
    const config = parseRunConfig(bedrock({ sharedQuota: { taskQueue: 'q', callsPerTask: 5, margin: 0 } }));
    const shared = (config.judge as { sharedQuota: Parameters<typeof sharedQueueTasksPerSecond>[0] }).sharedQuota;
    expect(sharedQueueTasksPerSecond(shared, 3000)).toBe(10);
    expect(sharedQueueTasksPerSecond({ ...shared, margin: 0.1 }, 3000)).toBeCloseTo(9, 10);
  });

  it('is refused in preference mode, naming the field', () => {
    let issues: string[] = [];
    try {
      parseRunConfig(bedrock({ mode: 'preference', sharedQuota: { taskQueue: 'q' } }));
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      issues = (err as ConfigError).issues;
    }
    expect(issues.some((line) => line.startsWith('judge.sharedQuota: rubric mode only')), issues.join('\n')).toBe(true);
  });

  it('is not a field of the offline judge', () => {
    expect(() => parseRunConfig({ steps: 1, rollouts: { type: 'directory', path: 'r' }, judge: { provider: 'offline-heuristic', sharedQuota: { taskQueue: 'q' } } })).toThrow(/sharedQuota/);
  });
});

describe('fairnessKeyOf', () => {
  it('keeps ids of up to 64 bytes as they are', () => {
    expect(fairnessKeyOf('run-42')).toBe('run-42');
    expect(fairnessKeyOf('x'.repeat(64))).toBe('x'.repeat(64));
  });

  it('fits longer ids into 64 bytes, distinct for ids that share a long prefix', () => {
    const a = fairnessKeyOf(`${'p'.repeat(80)}-a`);
    const b = fairnessKeyOf(`${'p'.repeat(80)}-b`);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
    // Multi-byte characters count as bytes, not as characters.
    const wide = fairnessKeyOf('é'.repeat(40));
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(64);
  });
});
