import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/config/rollout';
import type { Judge, Judgement } from '../../src/judges/judge';
import { OfflineHeuristicJudge } from '../../src/judges/offline-heuristic';
import { RunLayout } from '../../src/contract/run-layout';
import { readManifest } from '../../src/contract/manifest';
import { writeCheckpoint } from '../../src/steps/checkpoint';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { rollout, tempDir } from '../support/fixtures';
import { handleOf } from '../helpers/judge-handle';
import { parseRunConfig } from '../../src/config/run-config';

const { rewards, fallback } = parseRunConfig({ steps: 1, rollouts: { type: 'directory', path: 'x' } });
const common = { runId: 'r', rewards, fallback };

/** Our own Judge interface, counting which rollouts it was asked about. */
class CountingJudge implements Judge {
  readonly provider = 'counting';
  readonly model = 'counting-v1';
  readonly asked: string[] = [];
  constructor(private readonly fail: Set<string> = new Set()) {}
  async judge(r: Rollout): Promise<Judgement> {
    this.asked.push(r.id);
    const cost = { usage: { inputTokens: 10, outputTokens: 2 }, latencyMs: 1, attempts: 1 };
    if (this.fail.has(r.id)) return { ok: false, reason: 'server', message: 'HTTP 500', ...cost };
    return { ok: true, score: 0.75, rationale: 'fine', criteria: [], ...cost };
  }
}

async function setup(count: number, chunkSize: number) {
  const dir = await tempDir();
  const source = join(dir, 'step.jsonl');
  const ids = Array.from({ length: count }, (_, i) => `r${i}`);
  await writeFile(source, ids.map((id) => JSON.stringify(rollout(id))).join('\n') + '\n');
  const layout = new RunLayout(join(dir, 'run'));
  const info = await prepareBatch({ source, layout, step: 7, chunkSize });
  return { layout, info, ids };
}

describe('scoreChunk', () => {
  it('resumes after a crash: judges only what the earlier attempt did not finish', async () => {
    const { layout, info } = await setup(6, 6);
    const first = new CountingJudge();
    await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(first, 1) });
    // Simulate an attempt that died after two results and half a line.
    const lines = (await readFile(layout.chunkRewards(7, 0, info.key), 'utf8')).trim().split('\n');
    await writeFile(layout.chunkRewards(7, 0, info.key), lines.slice(0, 2).join('\n') + '\n');
    await appendFile(layout.chunkRewards(7, 0, info.key), lines[2]!.slice(0, 20));

    const second = new CountingJudge();
    const result = await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(second, 3) });
    const done = lines.slice(0, 2).map((l) => JSON.parse(l).id);
    expect(second.asked.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'].filter((id) => !done.includes(id)));
    expect(result).toMatchObject({ count: 6, scored: 6, resumed: 2, inputTokens: 60, outputTokens: 12 });
    const ids = (await readFile(layout.chunkRewards(7, 0, info.key), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('flags a failed judgement as a fallback with its reason', async () => {
    const { layout, info } = await setup(3, 3);
    const result = await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new CountingJudge(new Set(['r1'])), 2) });
    expect(result).toMatchObject({ scored: 2, fallback: 1, failures: { server: 1 } });
    const records = (await readFile(layout.chunkRewards(7, 0, info.key), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const failed = records.find((r) => r.id === 'r1');
    expect(failed).toMatchObject({ status: 'fallback', reward: 0.5, flags: ['fallback:server'] });
    expect(failed.judge.failure).toEqual({ reason: 'server', message: 'HTTP 500' });
  });
});

describe('checkpointStep', () => {
  it('writes the artifact and one manifest line, idempotently', async () => {
    const { layout, info, ids } = await setup(5, 2);
    const judge = handleOf(new OfflineHeuristicJudge(), 2);
    for (let chunk = 0; chunk < info.chunkCount; chunk++) {
      await judgeChunk({ ...common, layout, step: 7, chunk, judge });
    }
    const { entry } = await writeCheckpoint({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0 });
    expect(entry.file).toBe(join('steps', '000007.rewards.jsonl'));
    expect(entry.summary).toMatchObject({ step: 7, count: 5, scored: 5, fallbackRate: 0 });
    const artifact = (await readFile(layout.rewards(7), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(artifact.map((r) => r.id).sort()).toEqual(ids);
    // Scratch files are gone once the artifact is durable.
    await expect(stat(layout.work(7))).rejects.toThrow(/ENOENT/);

    const again = await writeCheckpoint({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0 });
    expect(again.entry).toEqual(entry);
    const manifest = await readManifest(layout.manifest);
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('appends each new step to the manifest and recovers from an append torn by a crash', async () => {
    const dir = await tempDir();
    const layout = new RunLayout(join(dir, 'run'));
    const judge = handleOf(new OfflineHeuristicJudge(), 2);
    const checkpointed = async (step: number) => {
      const source = join(dir, `step-${step}.jsonl`);
      await writeFile(source, [0, 1].map((i) => JSON.stringify(rollout(`s${step}-${i}`))).join('\n') + '\n');
      const info = await prepareBatch({ source, layout, step, chunkSize: 2 });
      await judgeChunk({ ...common, layout, step, chunk: 0, judge });
      return writeCheckpoint({ layout, step, chunkCount: info.chunkCount, quarantined: 0 });
    };
    await checkpointed(1);
    await checkpointed(2);
    await appendFile(layout.manifest, '{"step":3,"file":"steps/0000'); // the crash
    await checkpointed(3);
    const text = await readFile(layout.manifest, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect((await readManifest(layout.manifest)).map((m) => m.step)).toEqual([1, 2, 3]);
  });
});

/** Scores every rollout the same, so which batch a reward came from shows in its value. */
class ConstantJudge extends CountingJudge {
  constructor(private readonly score: number) {
    super();
  }
  override async judge(r: Rollout): Promise<Judgement> {
    const judged = await super.judge(r);
    return judged.ok ? { ...judged, score: this.score } : judged;
  }
}

describe('results are bound to the batch they score', () => {
  async function stepWith(dir: string, layout: RunLayout, answer: string) {
    const source = join(dir, 'step.jsonl');
    await writeFile(source, ['r0', 'r1', 'r2', 'r3'].map((id) => JSON.stringify(rollout(id, { response: `${answer} ${id}` }))).join('\n') + '\n');
    return prepareBatch({ source, layout, step: 7, chunkSize: 4 });
  }

  it('a chunk never resumes from partial results left by another batch with the same ids', async () => {
    const dir = await tempDir();
    const layout = new RunLayout(join(dir, 'run'));
    await stepWith(dir, layout, 'first answer');
    await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new ConstantJudge(0.25), 2) });

    await stepWith(dir, layout, 'another answer');
    const second = new ConstantJudge(0.75);
    const result = await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(second, 2) });
    expect(second.asked.sort()).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(result).toMatchObject({ count: 4, resumed: 0 });
  });

  it('a checkpoint of another batch for the same step is scored afresh, not the old artifact again', async () => {
    const dir = await tempDir();
    const layout = new RunLayout(join(dir, 'run'));
    const checkpointed = async (answer: string, score: number) => {
      const info = await stepWith(dir, layout, answer);
      await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new ConstantJudge(score), 2) });
      return writeCheckpoint({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0 });
    };
    await checkpointed('first answer', 0.25);
    const again = await checkpointed('another answer', 1);
    expect(again.entry.summary.reward.mean).toBe(1);
    const artifact = (await readFile(layout.rewards(7), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(artifact.map((r) => r.reward)).toEqual([1, 1, 1, 1]);
    expect(await readManifest(layout.manifest)).toHaveLength(1);
  });

  it('a checkpoint refuses a manifest line another execution wrote, naming both', async () => {
    const dir = await tempDir();
    const layout = new RunLayout(join(dir, 'run'));
    const owner = { workflowId: 'w', firstRunId: 'first-a' };
    const info = await stepWith(dir, layout, 'first answer');
    await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new ConstantJudge(0.25), 2) });
    await writeCheckpoint({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0, execution: owner });

    const other = await stepWith(dir, layout, 'first answer');
    await judgeChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new ConstantJudge(0.25), 2) });
    await expect(
      writeCheckpoint({ layout, step: 7, chunkCount: other.chunkCount, quarantined: 0, batch: other.key, execution: { workflowId: 'w', firstRunId: 'first-b' } }),
    ).rejects.toThrow(/step 7 was checkpointed by run w \(first run id first-a\), not by this run w \(first run id first-b\)/);
  });
});
