import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { stepReadyFile } from '../../src/contract/run-layout';
import { rftRun } from '../../workflows/rft-run';
import { tempDir, writeSteps } from '../support/fixtures';
import { heldActivities } from '../helpers/activity-faults';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { arbiter } from './run-cli';

const LAUNCHER = fileURLToPath(new URL('../../bin/arbiter.js', import.meta.url));
const env = () => ({ ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });

/** `arbiter run watch` as a user runs it in a pipe, its output readable while it runs. */
function watch(id: string) {
  const proc = spawn(process.execPath, [LAUNCHER, 'run', 'watch', id, '--interval', '0.2'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return {
    output: () => out,
    exited,
    saw: (text: string) => waitFor(async () => out, (o) => o.includes(text), 30_000),
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
    },
  };
}

describe('run watch and run status during a step', () => {
  it('show the file a step waits for, then its chunks and rollouts as they are judged', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeSteps(rollouts, 1, 4);
    const id = `watch-progress-${Date.now()}`;
    // Chunks of step 2 after the first wait for the test: the watcher sees the step half done.
    const held = new Map<number, () => void>();
    const hold = heldActivities((type, input) => {
      const i = input as { step?: number; chunk?: number };
      if (type !== 'scoreChunk' || i.step !== 2 || !i.chunk) return undefined;
      return new Promise<void>((resolve) => held.set(i.chunk!, resolve));
    });

    await withWorker(
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId: id,
          args: [{ steps: 2, rollouts: { type: 'directory', path: rollouts }, chunkSize: 2, maxChunksInFlight: 1, outputDir: join(dir, 'out') }],
        });
        const watcher = watch(id);
        try {
          const ready2 = stepReadyFile(rollouts, 2);
          await watcher.saw(`step 2/2 in progress: waiting for ${ready2}`);
          expect(watcher.output()).toMatch(/^step 1\/2: 4 rollouts/m);

          const status = await arbiter(['run', 'status', id], env());
          expect(status.stdout).toMatch(new RegExp(`^steps\\s+1/2 done, step 2: waiting for ${ready2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
          expect(status.stdout).not.toContain('scoring step');

          await writeSteps(rollouts, 1, 6, 2);
          await watcher.saw('step 2/2 in progress: 1/3 chunks done, 2/6 rollouts judged');
          held.get(1)!();
          await watcher.saw('step 2/2 in progress: 2/3 chunks done, 4/6 rollouts judged');
          await waitFor(async () => held.has(2), Boolean);
          held.get(2)!();

          expect(await watcher.exited).toBe(0);
          const out = watcher.output();
          expect(out).toMatch(/^step 2\/2: 6 rollouts/m);
          expect(out).toContain('completed: 2/2 steps scored');
          // In-step lines come before the step's own line, and only when something moved.
          expect(out.indexOf('2/3 chunks done')).toBeLessThan(out.indexOf('step 2/2: 6 rollouts'));
          expect(out.split('1/3 chunks done').length - 1).toBe(1);
          await handle.result();
        } finally {
          watcher.stop();
        }
      },
      { activityInterceptors: [hold] },
    );
  });
});
