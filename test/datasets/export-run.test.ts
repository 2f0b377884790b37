import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { exportRun, type ExportOptions } from '../../src/datasets/export-run';
import { arbiter } from '../cli/run-cli';
import { tempDir } from '../support/fixtures';
import { writeJudgedRun, type JudgedRun } from '../support/judged-run';

// Rewards by hand from JUDGED_RUN_RESPONSES (test/support/judged-run.ts); groups are prompts P1 (s1-a..d), P2 (s1-e, f), P3 (step 2).
//   original: s1-a 1, s1-b 1, s1-c ½, s1-d ½ | s1-e 1, s1-f 0 | s2-a 1, s2-b ½, s2-c fallback, s2-d ½
//   strict:   s1-a 1, s1-b ⅔, s1-c ⅓, s1-d 0 | s1-e fallback, s1-f ⅔ | s2-a 1, s2-b ⅔, s2-c ⅔, s2-d excluded

async function rows(run: JudgedRun, opts: Partial<ExportOptions> & Pick<ExportOptions, 'format'>) {
  const out: Record<string, any>[] = [];
  const summary = await exportRun({ runDir: run.runDir, version: 'original', minMargin: 0.1, rolloutsDir: run.rolloutsDir, write: async (r) => void out.push(r), ...opts });
  return { out, summary };
}

const pairs = (out: Record<string, any>[]) => out.map((r) => [r.step, r.chosen_id, r.rejected_id, Number(r.chosen_reward.toFixed(9)), Number(r.rejected_reward.toFixed(9))]);

describe('exportRun', () => {
  it('dpo: each group best against worst, with the minimum margin, never a fallback or excluded rollout', async () => {
    const run = await writeJudgedRun(await tempDir('arbiter-export-'));
    const original = await rows(run, { format: 'dpo' });
    // P1: a (1, first of the tie by id) against d (½, last of the tie); P2: e against f; P3: a against d (s2-c is a fallback).
    expect(pairs(original.out)).toEqual([[1, 's1-a', 's1-d', 1, 0.5], [1, 's1-e', 's1-f', 1, 0], [2, 's2-a', 's2-d', 1, 0.5]]);
    expect(original.out[0]).toMatchObject({
      prompt: 'Flag the legal risk of this clause: the supplier may terminate at any time.',
      chosen: 'Answer s1-a: [acc] [con] [cite]',
      rejected: 'Answer s1-d: [con] [long]',
    });
    expect(original.summary).toMatchObject({ rows: 3, groups: 3, fallback: 1, excluded: 0, conversational: false, goneSteps: [] });
    // A margin of 0.6 keeps only P2's (1 − 0 = 1); P1 and P3 are ½ apart.
    const wide = await rows(run, { format: 'dpo', minMargin: 0.6 });
    expect([pairs(wide.out), wide.summary.skipped['below-margin']]).toEqual([[[1, 's1-e', 's1-f', 1, 0]], 2]);
    // strict: P1 a (1) against d (0); P2 has f alone once e fell back; P3 a against c (⅔, after b by id), d excluded.
    const strict = await rows(run, { format: 'dpo', version: 'strict' });
    expect(pairs(strict.out)).toEqual([[1, 's1-a', 's1-d', 1, 0], [2, 's2-a', 's2-c', 1, 0.666666667]]);
    expect(strict.summary).toMatchObject({ rows: 2, fallback: 1, excluded: 1, skipped: { single: 1 } });
    const used = strict.out.flatMap((r) => [r.chosen_id, r.rejected_id]);
    expect(used).not.toContain('s1-e');
    expect(used).not.toContain('s2-d');
  });

  it('sft: the best of each group, above --min-reward', async () => {
    const run = await writeJudgedRun(await tempDir('arbiter-export-'));
    const original = await rows(run, { format: 'sft' });
    expect(original.out.map((r) => [r.step, r.id, r.reward])).toEqual([[1, 's1-a', 1], [1, 's1-e', 1], [2, 's2-a', 1]]);
    expect(original.out[0]).toMatchObject({ prompt: expect.stringContaining('Flag the legal risk'), completion: 'Answer s1-a: [acc] [con] [cite]' });
    // strict's P2 best is f at ⅔ (e fell back): under a floor of 0.7 it is left out.
    const strict = await rows(run, { format: 'sft', version: 'strict', minReward: 0.7 });
    expect([strict.out.map((r) => r.id), strict.summary.skipped['below-min-reward']]).toEqual([['s1-a', 's2-a'], 1]);
  });

  it('rewards: every rollout with its status, fallback and excluded included', async () => {
    const run = await writeJudgedRun(await tempDir('arbiter-export-'));
    const { out } = await rows(run, { format: 'rewards', version: 'strict', rolloutsDir: undefined });
    expect(out).toHaveLength(10);
    expect(out.find((r) => r.id === 's1-e')).toMatchObject({ step: 1, reward: 0.5, status: 'fallback', flags: ['fallback:server'] });
    expect(out.find((r) => r.id === 's2-d')).toMatchObject({ step: 2, reward: null, status: 'excluded' });
    expect(out.find((r) => r.id === 's1-b')).toEqual({ id: 's1-b', step: 1, reward: 2 / 3, status: 'scored', flags: [], breakdown: { judge: 2 / 3 } });
  });

  it('names a step whose rollouts are gone, and never takes texts that are not the ones judged', async () => {
    const run = await writeJudgedRun(await tempDir('arbiter-export-'));
    await rm(stepRolloutFile(run.rolloutsDir!, 2));
    // s1-d's line rewritten with another response: its length no longer matches what was judged.
    const file = stepRolloutFile(run.rolloutsDir!, 1);
    await writeFile(file, (await readFile(file, 'utf8')).replace('Answer s1-d: [con] [long]', 'Answer s1-d: rewritten'));
    const { out, summary } = await rows(run, { format: 'dpo' });
    expect(summary.goneSteps).toEqual([{ step: 2, why: expect.stringContaining('no stored rollouts') }]);
    expect(summary.textsMissing).toBe(1);
    // P1 without d: a (1), b (1), c (½): a against c.
    expect(pairs(out)).toEqual([[1, 's1-a', 's1-c', 1, 0.5], [1, 's1-e', 's1-f', 1, 0]]);
  });

  it('writes conversational rows when the rollouts are trajectories, from the run inbox', async () => {
    const run = await writeJudgedRun(await tempDir('arbiter-export-'), { trajectories: true });
    const { out, summary } = await rows(run, { format: 'dpo' });
    expect(summary.conversational).toBe(true);
    expect(pairs(out)).toEqual([[1, 's1-a', 's1-d', 1, 0.5], [1, 's1-e', 's1-f', 1, 0], [2, 's2-a', 's2-d', 1, 0.5]]);
    expect(out[0]!.prompt.map((t: { role: string }) => t.role)).toEqual(['system', 'user']);
    // The policy's own part: its tool call (arguments a JSON string), the tool's result, its answer.
    expect(out[0]!.chosen.map((t: { role: string }) => t.role)).toEqual(['assistant', 'tool', 'assistant']);
    expect(out[0]!.chosen[0].tool_calls[0].function).toEqual({ name: 'lookup_clause', arguments: '{"clause":"7.2"}' });
    expect(out[0]!.chosen[2]).toEqual({ role: 'assistant', content: 'Answer s1-a: [acc] [con] [cite]' });
  });
});

describe('arbiter run export', () => {
  it('writes the file atomically with --out and says on stderr what it left out', async () => {
    const dir = await tempDir('arbiter-export-cli-');
    const run = await writeJudgedRun(dir);
    const out = join(dir, 'pairs.jsonl');
    const result = await arbiter(['run', 'export', 'judged', '--output-dir', join(dir, 'runs'), '--version', 'strict', '--format', 'dpo', '--out', out, '--rollouts', run.rolloutsDir!]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.chosen_id)).toEqual(['s1-a', 's2-a']);
    expect(result.stderr).toContain('export: 2 dpo rows from 2 steps of version strict');
    expect(result.stderr).toContain('1 fallback and 1 excluded rewards (never paired or sampled)');
    const bad = await arbiter(['run', 'export', run.runDir, '--format', 'kto']);
    expect(bad.code).not.toBe(0);
  }, 60_000);
});
