import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JudgeConfigSchema } from '../../src/config/judge-config';
import type { RewardRecord } from '../../src/contract/reward-record';
import { parseRunConfig } from '../../src/config/run-config';
import { buildJudge } from '../../src/judges/build-judge';
import { RunLayout } from '../../src/contract/run-layout';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { StepStats } from '../../src/steps/step-summary';
import { bedrockErrors, type FaultScript } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';

/** Comparisons of BROKEN fail (500), except against SPARE. */
const brokenUnlessSpare: FaultScript = (call) => {
  const text = userText(call);
  return text.includes('BROKEN') && !text.includes('SPARE') ? { ...bedrockErrors.internal, type: 'error' } : undefined;
};

const fake = fakeBedrockPerFile({ seed: 13, respond: markerJudge('leaving no continuity'), faults: brokenUnlessSpare });

const rubric = { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] };

async function scoreGroup(preference: Record<string, unknown> = {}, recovery: Record<string, unknown> = { passes: 0 }) {
  const dir = await tempDir();
  const source = join(dir, 'step.jsonl');
  const responses = ['BROKEN answer', 'SPARE answer', 'plain answer two', 'plain answer three'];
  await writeFile(source, responses.map((response, i) => JSON.stringify(rollout(`r${i}`, { response, group: 'g' }))).join('\n') + '\n');
  const layout = new RunLayout(join(dir, 'run'));
  const batch = await prepareBatch({ source, layout, step: 1, chunkSize: 10 });
  const config = parseRunConfig({ steps: 1, rollouts: { type: 'updates' } });
  const judge = await buildJudge(
    JudgeConfigSchema.parse({
      provider: 'bedrock',
      model: TEST_MODEL,
      mode: 'preference',
      rubric,
      maxAttempts: 1,
      recovery,
      preference,
    }),
    {},
  );
  try {
    const result = await judgeChunk({ layout, runId: 'partial', step: 1, chunk: 0, judge, rewards: config.rewards, fallback: config.fallback });
    const records = (await readFile(layout.chunkRewards(1, 0, batch.key), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RewardRecord);
    return { result, records: new Map(records.map((r) => [r.id, r])) };
  } finally {
    await judge.close();
  }
}

describe('preference mode with failed comparisons', () => {
  it('a response most of whose comparisons failed gets the fallback and counts as one', async () => {
    // 4 responses, 6 pairs, 3 planned comparisons each. r0's fail against r2 and r3.
    const { result, records } = await scoreGroup();
    expect(records.get('r0')).toMatchObject({ status: 'fallback', reward: 0.5, flags: ['fallback:server'] });
    expect(records.get('r0')!.judge.failure?.message).toMatch(/only 1 of 3 planned comparisons succeeded/);
    // 2 of 3 succeeded: scored, but the shortfall is flagged.
    for (const id of ['r2', 'r3']) {
      expect(records.get(id)).toMatchObject({ status: 'scored', flags: ['partial-comparisons'] });
    }
    expect(records.get('r1')).toMatchObject({ status: 'scored', flags: [] });
    expect(result).toMatchObject({ scored: 3, fallback: 1, failures: { server: 1 } });

    const stats = new StepStats();
    for (const r of records.values()) stats.add(r);
    expect(stats.summary(1, 0)).toMatchObject({ fallback: 1, fallbackRate: 0.25, fallbackByReason: { server: 1 } });
  });

  it('failed comparisons are asked again after the cool-down; those that worked are not', async () => {
    // The first pass's two BROKEN comparisons fail (on their first order); nothing fails after.
    let failures = 0;
    fake.setOptions({
      faults: (call) => {
        const fault = failures < 2 ? brokenUnlessSpare(call) : undefined;
        if (fault) failures++;
        return fault;
      },
    });
    fake.reset();
    try {
      const { result, records } = await scoreGroup({}, { passes: 1, coolDownSeconds: 0.05 });
      expect(result).toMatchObject({ scored: 4, fallback: 0 });
      for (const r of records.values()) expect(r.flags).toEqual([]);
      // 6 pairs × 2 orders answered once each, plus the first order of the 2 failed pairs.
      expect(fake.stats.ok).toBe(12);
      expect(fake.stats.requests).toBe(14);
    } finally {
      fake.setOptions({ faults: brokenUnlessSpare });
    }
  });

  it('the share is configurable: with minComparisonShare 0.3, one of three is enough', async () => {
    const { records } = await scoreGroup({ minComparisonShare: 0.3 });
    expect(records.get('r0')).toMatchObject({ status: 'scored', flags: ['partial-comparisons'] });
  });
});
