import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepReadyFile, stepRolloutFile } from '../../src/contract/run-layout';
import { rollout, tempDir } from '../support/fixtures';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { progressQuery } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';

function messages(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' <- ');
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify(rollout(`r${i}`, { response: `answer ${i}` })) + '\n');

/** Runs a one-step directory run while `trainer` writes its step file; returns the outcome. */
async function runWhile(dir: string, trainer: (rollouts: string) => Promise<void>) {
  const rollouts = join(dir, 'rollouts');
  await mkdir(rollouts, { recursive: true });
  const outputDir = join(dir, 'out');
  const workflowId = `ready-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const outcome = await withWorker(async ({ client, taskQueue }) => {
    const handle = await client.workflow.start(rftRun, {
      taskQueue,
      workflowId,
      args: [{ steps: 1, rollouts: { type: 'directory', path: rollouts }, outputDir, chunkSize: 4 }],
    });
    await trainer(rollouts);
    // A step the trainer marked ready but that is not whole pauses the run with the reason.
    const settled = await waitFor(() => handle.query(progressQuery), (p) => p.status !== 'running', 60_000);
    if (settled.status === 'paused') {
      await handle.terminate('test over');
      return { paused: settled.reason ?? '' };
    }
    return handle.result().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  });
  return { outcome, runDir: join(outputDir, workflowId) };
}

describe('a directory step is read only once the trainer marks it ready', () => {
  it('a trainer still writing its step file gets every rollout scored once and nothing quarantined', async () => {
    const all = lines(10);
    const { outcome, runDir } = await runWhile(await tempDir(), async (rollouts) => {
      const file = stepRolloutFile(rollouts, 1);
      // Half the lines and half of the next one, then a pause long enough for several polls.
      await writeFile(file, all.slice(0, 5).join('') + all[5]!.slice(0, 30));
      await new Promise((r) => setTimeout(r, 3000));
      await appendFile(file, all[5]!.slice(30) + all.slice(6).join(''));
      await writeFile(stepReadyFile(rollouts, 1), '');
    });
    expect('result' in outcome, messages((outcome as { error?: unknown }).error)).toBe(true);
    const { manifest, records } = await readRunRecords(runDir);
    expect(records.map((r) => r.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    expect(manifest[0]!.summary).toMatchObject({ count: 10, quarantined: 0 });
  });

  it('refuses a ready step whose last line has no newline, naming the file', async () => {
    const { outcome } = await runWhile(await tempDir(), async (rollouts) => {
      await writeFile(stepRolloutFile(rollouts, 1), lines(3).join('') + lines(4)[3]!.trimEnd());
      await writeFile(stepReadyFile(rollouts, 1), '');
    });
    expect('paused' in outcome, 'the run did not pause').toBe(true);
    expect((outcome as { paused: string }).paused).toMatch(/step 1: step-000001\.jsonl ends without a newline: a trainer still writing\?/);
  });

  it('checks the line count a ready marker states', async () => {
    const { outcome } = await runWhile(await tempDir(), async (rollouts) => {
      await writeFile(stepRolloutFile(rollouts, 1), lines(3).join(''));
      await writeFile(stepReadyFile(rollouts, 1), '4\n');
    });
    expect('paused' in outcome, 'the run did not pause').toBe(true);
    expect((outcome as { paused: string }).paused).toMatch(/step-000001\.ready says 4 lines, step-000001\.jsonl has 3/);
  });
});
