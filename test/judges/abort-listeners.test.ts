import { getEventListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { RunLayout } from '../../src/contract/run-layout';
import { buildJudge } from '../../src/judges/build-judge';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { TEST_MODEL } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';

/**
 * The worker printed "MaxListenersExceededWarning: Possible EventTarget memory leak detected.
 * 11 abort listeners added to [AbortSignal]" during Bedrock-judged runs: every judge call of a
 * chunk (up to `maxInFlight` at once) hung its own 'abort' listener on the activity's one
 * cancellation signal, in the call deadline, the quota limiter's queue and the retry backoff.
 */
const fake = fakeBedrockPerFile({ seed: 3, latencyMs: [20, 60] });

let warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  fake.setOptions({ faults: [], quota: undefined });
  fake.reset();
});

async function chunkOf(count: number, quota: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const config = parseRunConfig({
    steps: 1,
    rollouts: { type: 'directory', path: dir },
    judge: {
      provider: 'bedrock',
      model: TEST_MODEL,
      rubric: { criteria: [{ id: 'correct', description: 'The answer is right.' }] },
      quota: { requestsPerMinute: 60_000, maxInFlight: 32, ...quota },
      recovery: { coolDownSeconds: 0, passes: 0 },
    },
    cache: false,
  });
  if (config.judge.provider !== 'bedrock') throw new Error('bedrock judge expected');
  const source = join(dir, 'step.jsonl');
  await writeFile(source, Array.from({ length: count }, (_, i) => JSON.stringify(rollout(`r${i}`, { response: `answer ${i}` }))).join('\n') + '\n');
  const layout = new RunLayout(join(dir, 'run'));
  await prepareBatch({ source, layout, step: 1, chunkSize: count });
  const judge = await buildJudge(config.judge, {});
  return { config, layout, judge };
}

function leakWarnings(): Error[] {
  return warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
}

describe('judge calls and the activity cancellation signal they share', () => {
  it('a chunk of 50 calls, 32 at once, leaves no listener behind and never passes the listener limit', async () => {
    const { config, layout, judge } = await chunkOf(50);
    const cancellation = new AbortController();
    const baseline = getEventListeners(cancellation.signal, 'abort').length;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, getEventListeners(cancellation.signal, 'abort').length);
    }, 2);
    try {
      const result = await judgeChunk({
        runId: 'r', layout, step: 1, chunk: 0, judge, rewards: config.rewards, fallback: config.fallback, signal: cancellation.signal,
      });
      expect(result.scored).toBe(50);
    } finally {
      clearInterval(sampler);
      await judge.close();
    }
    expect(fake.stats.maxInFlight).toBeGreaterThan(10);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(leakWarnings()).toEqual([]);
    expect(peak).toBeLessThanOrEqual(baseline + 1);
    expect(getEventListeners(cancellation.signal, 'abort').length).toBe(baseline);
  });

  it('the same while calls queue in the limiter and back off after throttling', async () => {
    // A tight limiter (calls wait in its queue) and a throttling fake (calls sleep in backoff).
    fake.setOptions({ quota: { requestsPerSecond: 40, burst: 5 } });
    const { config, layout, judge } = await chunkOf(50, { requestsPerMinute: 3_000 });
    const cancellation = new AbortController();
    const baseline = getEventListeners(cancellation.signal, 'abort').length;
    try {
      await judgeChunk({ runId: 'r', layout, step: 1, chunk: 0, judge, rewards: config.rewards, fallback: config.fallback, signal: cancellation.signal });
    } finally {
      await judge.close();
    }
    expect(fake.stats.throttled).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(leakWarnings()).toEqual([]);
    expect(getEventListeners(cancellation.signal, 'abort').length).toBe(baseline);
  });

  it('cancelling the shared signal still stops every call at once', async () => {
    fake.setOptions({ faults: () => ({ type: 'hang' }) });
    const { config, layout, judge } = await chunkOf(40);
    const cancellation = new AbortController();
    const scoring = judgeChunk({ runId: 'r', layout, step: 1, chunk: 0, judge, rewards: config.rewards, fallback: config.fallback, signal: cancellation.signal });
    for (let i = 0; i < 200 && fake.stats.hangs < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.stats.hangs).toBeGreaterThanOrEqual(20);
    const reason = new Error('activity cancelled');
    cancellation.abort(reason);
    await expect(scoring).rejects.toBe(reason);
    await judge.close();
    for (let i = 0; i < 200 && fake.stats.inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.stats.inFlight).toBe(0);
    expect(getEventListeners(cancellation.signal, 'abort')).toHaveLength(0);
  });
});
