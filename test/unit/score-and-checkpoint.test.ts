import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/config/rollout';
import type { Judge, Judgement } from '../../src/judges/judge';
import { OfflineHeuristicJudge } from '../../src/judges/offline-heuristic';
import { RunLayout } from '../../src/run-layout';
import { checkpointStep, readManifest } from '../../src/steps/checkpoint';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { scoreChunk } from '../../src/steps/score-chunk';
import { rollout, tempDir } from '../helpers/fixtures';
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
    const { layout } = await setup(6, 6);
    const first = new CountingJudge();
    await scoreChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(first, 1) });
    // Simulate an attempt that died after two results and half a line.
    const lines = (await readFile(layout.chunkRewards(7, 0), 'utf8')).trim().split('\n');
    await writeFile(layout.chunkRewards(7, 0), lines.slice(0, 2).join('\n') + '\n');
    await appendFile(layout.chunkRewards(7, 0), lines[2]!.slice(0, 20));

    const second = new CountingJudge();
    const result = await scoreChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(second, 3) });
    const done = lines.slice(0, 2).map((l) => JSON.parse(l).id);
    expect(second.asked.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'].filter((id) => !done.includes(id)));
    expect(result).toMatchObject({ count: 6, scored: 6, resumed: 2, inputTokens: 60, outputTokens: 12 });
    const ids = (await readFile(layout.chunkRewards(7, 0), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('flags a failed judgement as a fallback with its reason', async () => {
    const { layout } = await setup(3, 3);
    const result = await scoreChunk({ ...common, layout, step: 7, chunk: 0, judge: handleOf(new CountingJudge(new Set(['r1'])), 2) });
    expect(result).toMatchObject({ scored: 2, fallback: 1, failures: { server: 1 } });
    const records = (await readFile(layout.chunkRewards(7, 0), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
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
      await scoreChunk({ ...common, layout, step: 7, chunk, judge });
    }
    const { entry } = await checkpointStep({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0 });
    expect(entry.file).toBe(join('steps', '000007.rewards.jsonl'));
    expect(entry.summary).toMatchObject({ step: 7, count: 5, scored: 5, fallbackRate: 0 });
    const artifact = (await readFile(layout.rewards(7), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(artifact.map((r) => r.id).sort()).toEqual(ids);
    // Scratch files are gone once the artifact is durable.
    await expect(stat(layout.work(7))).rejects.toThrow(/ENOENT/);

    const again = await checkpointStep({ layout, step: 7, chunkCount: info.chunkCount, quarantined: 0 });
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
      await scoreChunk({ ...common, layout, step, chunk: 0, judge });
      return checkpointStep({ layout, step, chunkCount: info.chunkCount, quarantined: 0 });
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
