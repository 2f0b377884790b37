import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { markReady, rollout, tempDir, writeSteps } from '../support/fixtures';
import { maybeRecordHistory } from '../helpers/histories';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { rftRun } from '../../workflows/rft-run';

const GOOD = 'leaving no continuity'; // in the fixtures' good answers only

const rubric = {
  criteria: [
    { id: 'flags_risk', description: 'Says whether the clause is risky for the customer', weight: 2 },
    { id: 'explains_why', description: 'Explains the reason for the risk' },
  ],
};

const fake = fakeBedrockPerFile({ seed: 3, latencyMs: [5, 20], respond: markerJudge(GOOD) });

async function records(outputDir: string, runId: string) {
  const { manifest, records: all } = await readRunRecords(join(outputDir, runId));
  return { manifest, all };
}

describe('runs judged by Bedrock (real SDK client, fake Bedrock server)', () => {
  it('rubric mode: scores every rollout once, keeps tokens and rationale, and never pays twice', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 2, 6);
    const outputDir = join(dir, 'out');
    const config = {
      steps: 2,
      rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
      judge: { provider: 'bedrock' as const, model: TEST_MODEL, rubric },
      chunkSize: 4,
      outputDir,
      prices: { [TEST_MODEL]: { inputPerMTok: 0.8, outputPerMTok: 4 } },
    };
    fake.reset();

    const workflowId = `rubric-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const first = await client.workflow.execute(rftRun, { taskQueue, workflowId, args: [{ ...config, runId: 'first' }] });
      expect(first.totals.rollouts).toBe(12);
      expect(first.totals.costUsd).toBeGreaterThan(0);
    });
    await maybeRecordHistory('bedrock-rubric-with-recovery', workflowId);
    expect(fake.stats.requests).toBe(12);
    expect([...fake.stats.callsByPromptHash.values()].every((n) => n === 1)).toBe(true);

    const { manifest, all } = await records(outputDir, 'first');
    expect(all).toHaveLength(12);
    for (const r of all) {
      expect(r.status).toBe('scored');
      expect(r.judge).toMatchObject({ provider: 'bedrock' as const, model: TEST_MODEL, attempts: 1 });
      expect(r.judge.rubricHash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.judge.inputTokens).toBeGreaterThan(0);
      const good = Number(r.id.split('-r')[1]) % 2 === 0;
      expect(r.reward).toBe(good ? 1 : 0);
      expect(r.judge.rationale).toBe(good ? 'flags the risk' : 'misses the risk');
    }
    expect(manifest[0]!.summary.inputTokens).toBeGreaterThan(0);
    expect(manifest.map((m) => m.summary.calls)).toEqual([6, 6]);

    // Same rollouts, same judge: a second run answers from the cache.
    await withWorker(({ client, taskQueue }) =>
      client.workflow.execute(rftRun, { taskQueue, workflowId: `rubric-again-${Date.now()}`, args: [{ ...config, runId: 'second' }] }),
    );
    expect(fake.stats.requests).toBe(12);
    const again = await records(outputDir, 'second');
    expect(again.all.every((r) => r.judge.cached === true)).toBe(true);
    expect(again.manifest.map((m) => m.summary.cached)).toEqual([6, 6]);
    expect(again.manifest.map((m) => m.summary.inputTokens)).toEqual([0, 0]);
    expect(again.manifest.map((m) => m.summary.calls)).toEqual([0, 0]);
  });

  it('preference mode: win rates within each group, both orders asked', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await mkdir(rolloutsDir, { recursive: true });
    // Two prompts, three answers each, scattered through the file: one good answer per group.
    const lines = [];
    for (const g of ['g1', 'g2']) {
      lines.push(rollout(`${g}-good`, { group: g }));
      lines.push(rollout(`${g}-bad1`, { group: g, response: 'No risk here.' }));
      lines.push(rollout(`${g}-bad2`, { group: g, response: 'Fine.' }));
    }
    const shuffled = [lines[0], lines[3], lines[1], lines[4], lines[2], lines[5]];
    await writeFile(stepRolloutFile(rolloutsDir, 1), shuffled.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await markReady(rolloutsDir, 1);
    const outputDir = join(dir, 'out');
    fake.reset();

    await withWorker(({ client, taskQueue }) =>
      client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `pref-${Date.now()}`,
        args: [{
          runId: 'pref',
          steps: 1,
          rollouts: { type: 'directory' as const, path: rolloutsDir },
          judge: { provider: 'bedrock' as const, model: TEST_MODEL, mode: 'preference', rubric },
          chunkSize: 2,
          outputDir,
        }],
      }),
    );
    // 3 pairs per group, each asked in both orders.
    expect(fake.stats.requests).toBe(2 * 3 * 2);
    const { all, manifest } = await records(outputDir, 'pref');
    expect(manifest[0]!.summary.calls).toBe(12);
    expect(manifest[0]!.summary.inputTokens).toBe(fake.stats.inputTokens);
    const reward = new Map(all.map((r) => [r.id, r.reward]));
    for (const g of ['g1', 'g2']) {
      expect(reward.get(`${g}-good`)).toBe(1);
      expect(reward.get(`${g}-bad1`)).toBe(0.25);
      expect(reward.get(`${g}-bad2`)).toBe(0.25);
    }
    expect(all.every((r) => r.status === 'scored' && r.flags.length === 0)).toBe(true);
  });
});
