import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { progressQuery } from '../../workflows/definitions';
import { tempDir, writeSteps } from '../support/fixtures';
import { maybeRecordHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

describe('rftRun against a real dev server', () => {
  it('scores every step in chunks and checkpoints one artifact per step', async () => {
    const dir = await tempDir();
    const ids = await writeSteps(join(dir, 'rollouts'), 3, 10);
    const runId = `run-${Date.now()}`;
    const outputDir = join(dir, 'out');

    const result = await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: runId,
        args: [{ steps: 3, rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') }, chunkSize: 3, outputDir }],
      });
      const out = await handle.result();
      await maybeRecordHistory('directory-steps-marked-ready', runId);
      const progress = await handle.query(progressQuery);
      expect(progress.status).toBe('completed');
      expect(progress.stepsDone).toBe(3);
      expect(progress.lastStep?.step).toBe(3);
      return out;
    });

    expect(result.stepsDone).toBe(3);
    const manifest = await readManifest(join(outputDir, runId, 'manifest.jsonl'));
    expect(manifest.map((m) => m.step)).toEqual([1, 2, 3]);
    const seen: string[] = [];
    for (const line of manifest) {
      const text = await readFile(join(outputDir, runId, line.file), 'utf8');
      const records = text.trim().split('\n').map((l) => JSON.parse(l));
      expect(records).toHaveLength(10);
      expect(line.summary.count).toBe(10);
      for (const r of records) {
        expect(r.status).toBe('scored');
        expect(r.judge.provider).toBe('offline-heuristic');
        expect(r.breakdown.judge).toBe(r.reward);
        seen.push(r.id);
      }
      // Good answers (even ids) outscore the one-word ones.
      const byId = new Map(records.map((r) => [r.id, r.reward]));
      expect(byId.get(`s${line.step}-r0`)).toBeGreaterThan(byId.get(`s${line.step}-r1`)!);
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect(result.lastStep?.reward.mean).toBe(manifest[2]!.summary.reward.mean);
  });

  it('fails a run whose config is bad, naming the field', async () => {
    const err = await withWorker(({ client, taskQueue }) =>
      client.workflow
        .execute(rftRun, {
          taskQueue,
          workflowId: `bad-${Date.now()}`,
          // What the Temporal CLI could send: JSON the types never saw.
          args: [{ steps: 'three', rollouts: { type: 'directory', path: '/nowhere' } } as never],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/steps: .*number/);
  });
});
