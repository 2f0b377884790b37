import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { RunLayout } from '../../src/contract/run-layout';
import type { JudgeHandle } from '../../src/judges/build-judge';
import type { CanaryItem } from '../../src/steps/canary-set';
import { writeCheckpoint } from '../../src/steps/checkpoint';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { rollout, tempDir } from '../support/fixtures';

const { rewards, fallback } = parseRunConfig({ steps: 1, rollouts: { type: 'directory', path: 'x' } });

/** Passes a response that says GOOD (both criteria), unless told to pass everything; notes which calls asked for a fresh verdict. */
function scriptedJudge(state: { passAll: boolean; fresh: Map<string, boolean>; failOn?: string }): JudgeHandle {
  return {
    identity: { provider: 'scripted', model: 'scripted-v1' },
    mode: 'rubric',
    concurrency: 3,
    maxPairsPerGroup: 0,
    async rubric(r, _signal, options) {
      state.fresh.set(r.id, options?.fresh === true);
      const pass = state.passAll || r.response.includes('GOOD');
      const cost = { usage: { inputTokens: 10, outputTokens: 2 }, latencyMs: 1, attempts: 1 };
      if (state.failOn && r.response.includes(state.failOn)) return { ok: false, reason: 'parse', message: 'no JSON in the answer', ...cost };
      const criteria = ['flags_risk', 'explains_why'].map((id) => ({ id, pass, evidence: '' }));
      return { ok: true, score: pass ? 1 : 0, rationale: pass ? 'good' : 'bad', criteria, ...cost };
    },
    compare: () => Promise.reject(new Error('rubric only')),
    close: async () => {},
  };
}

const canaries: CanaryItem[] = [
  { id: 'g1', prompt: 'p', response: 'GOOD one', label: { pass: true } },
  { id: 'g2', prompt: 'p', response: 'GOOD two', label: { criteria: { flags_risk: true, explains_why: true } } },
  { id: 'b1', prompt: 'p', response: 'bad one', label: { pass: false } },
  { id: 'b2', prompt: 'p', response: 'bad two', label: { pass: false, criteria: { flags_risk: false } } },
];

async function scoreStep(passAll: boolean, rolloutIds = ['r0', 'r1', 'r2', 'r3', 'r4'], failOn?: string) {
  const dir = await tempDir();
  const source = join(dir, 'step.jsonl');
  await writeFile(source, rolloutIds.map((id, i) => JSON.stringify(rollout(id, { response: i % 2 ? 'meh' : 'GOOD answer' }))).join('\n') + '\n');
  const layout = new RunLayout(join(dir, 'run'));
  const info = await prepareBatch({ source, layout, step: 4, chunkSize: 3, canaries });
  const state = { passAll, fresh: new Map<string, boolean>(), failOn };
  for (let chunk = 0; chunk < info.chunkCount; chunk++) {
    await judgeChunk({ runId: 'r', rewards, fallback, layout, step: 4, chunk, batch: info.key, judge: scriptedJudge(state) });
  }
  const done = await writeCheckpoint({ layout, step: 4, chunkCount: info.chunkCount, quarantined: 0, batch: info.key, returnRewards: true, review: { samples: 9, lowConfidenceMargin: 0.5, maxFlagged: 9, seed: 1 } });
  const artifact = (await readFile(layout.rewards(4), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string });
  const canaryLines = (await readFile(layout.canaryResults(4), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  return { info, done, artifact, canaryLines, state };
}

describe('canaries in a step', () => {
  it('are judged with the rollouts, fresh, and kept out of the rewards, their statistics, the review and the reply', async () => {
    const { info, done, artifact, canaryLines, state } = await scoreStep(false);
    expect(info.valid).toBe(5);
    expect(info.chunkCount).toBe(3); // 9 items in chunks of 3: the canaries share the step's activities
    // Every item asked the judge; only the canaries bypassed the cache.
    expect([...state.fresh].filter(([, fresh]) => fresh).map(([id]) => id).sort()).toEqual(['canary:b1', 'canary:b2', 'canary:g1', 'canary:g2']);
    expect([...state.fresh].filter(([, fresh]) => !fresh)).toHaveLength(5);

    expect(artifact.map((r) => r.id).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(done.rewards!.map((r) => r.id).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(done.reviewItems.every((i) => i.rolloutId.startsWith('r'))).toBe(true);
    const summary = done.entry.summary;
    expect(summary.count).toBe(5);
    expect(summary.reward.mean).toBeCloseTo(3 / 5, 6); // the rollouts' rewards alone
    expect(summary.calls).toBe(9); // the canaries were paid for
    expect(summary.inputTokens).toBe(90);
    expect(summary.canary).toEqual({
      n: 4,
      correct: 4,
      accuracy: 1,
      kappa: 1,
      failed: 0,
      criteria: { explains_why: { n: 1, correct: 1 }, flags_risk: { n: 2, correct: 2 } },
    });
    expect(canaryLines.map((l) => [l.id, l.goldPass, l.judgePass])).toEqual(
      expect.arrayContaining([
        ['g1', true, true],
        ['g2', true, true],
        ['b1', false, false],
        ['b2', false, false],
      ]),
    );
  });

  it('show a judge that passes everything: half the gold items wrong, κ 0', async () => {
    const { done } = await scoreStep(true);
    expect(done.entry.summary.canary).toMatchObject({ n: 4, correct: 2, accuracy: 0.5, kappa: 0 });
    expect(done.entry.summary.canary!.criteria.flags_risk).toEqual({ n: 2, correct: 1 });
  });

  it('never share an id with a rollout, whatever ids the trainer uses', async () => {
    const { artifact, done } = await scoreStep(false, ['canary:g1', 'r1', 'x']);
    expect(artifact.map((r) => r.id).sort()).toEqual(['canary:g1', 'r1', 'x']);
    expect(done.entry.summary.count).toBe(3);
    expect(done.entry.summary.canary!.n).toBe(4);
  });

  it('count a judge failure on a canary as failed, not as a verdict, and not in the step’s fallback rate', async () => {
    const { done, canaryLines } = await scoreStep(false, undefined, 'bad one');
    expect(done.entry.summary.canary).toMatchObject({ n: 3, correct: 3, accuracy: 1, failed: 1 });
    expect(done.entry.summary).toMatchObject({ count: 5, fallback: 0, fallbackRate: 0 });
    expect(canaryLines.find((l) => l.id === 'b1')).toMatchObject({ goldPass: false, failure: 'no JSON in the answer' });
  });
});
