import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import type { RunProgress } from '../../workflows/progress';
import { markReady, rollout, tempDir, writeSteps } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';
import { arbiter, type CliResult } from './run-cli';

const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });

async function ok(args: string[]): Promise<CliResult> {
  const result = await arbiter(args, env());
  if (result.code !== 0) throw new Error(`arbiter ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

async function progressOf(id: string): Promise<RunProgress> {
  return JSON.parse((await ok(['run', 'status', id, '--json'])).stdout) as RunProgress;
}

async function until<T>(what: string, poll: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await poll();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('arbiter run / review against a real server and worker', () => {
  it('starts a run from a YAML config with relative paths, follows it, and answers its reviews', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 2, 6);
    const config = join(dir, 'run.yaml');
    await writeFile(
      config,
      ['steps: 2', 'rollouts: { type: directory, path: rollouts }', 'outputDir: out', 'chunkSize: 4', 'review: { everySteps: 1, samples: 2 }'].join('\n'),
    );
    const id = `cli-run-${Date.now()}`;

    await withWorker(async ({ taskQueue }) => {
      const started = await ok(['run', 'start', config, '--id', id, '--task-queue', taskQueue]);
      expect(started.stdout).toContain(id);
      expect(started.stdout).toContain(`${inject('temporalUiUrl')}/namespaces/default/workflows/${id}`);

      const done = await until('completion', () => progressOf(id), (p) => p.status === 'completed');
      expect(done.stepsDone).toBe(2);
      expect(done.totals.rollouts).toBe(12);

      const status = await ok(['run', 'status', id]);
      expect(status.stdout).toMatch(/^status\s+completed$/m);
      expect(status.stdout).toMatch(/^steps\s+2\/2 done$/m);

      // Not a terminal: one line per step, then the end.
      const watched = await ok(['run', 'watch', id]);
      expect(watched.stdout).toMatch(/^step 1\/2: 6 rollouts/m);
      expect(watched.stdout).toMatch(/^step 2\/2: 6 rollouts/m);
      expect(watched.stdout).toMatch(/completed: 2\/2 steps scored/);

      const controlled = await arbiter(['run', 'pause', id], env());
      expect(controlled.code).toBe(1);
      expect(controlled.stderr).toContain('closed');

      // Reviews: one review workflow for the run, holding both reviewed steps. Listing is
      // eventually consistent, so wait for it to show.
      const reviewId = `${id}-review`;
      const listed = await until('the review listing', () => ok(['review', 'list', '--run', id]), (r) => r.stdout.includes(reviewId), 20_000);
      expect(listed.stdout).toContain(`${reviewId}: review of run ${id}, 4 items to answer (steps 1, 2)`);
      expect(listed.stdout).toMatch(/^ {2}step 2: 2 of 2 unanswered, deadline /m);
      const itemId = new RegExp(`^${reviewId}:[^\\n]*\\n {2}step 1:[^\\n]*\\n {4}(\\S+) {2}judge`, 'm').exec(listed.stdout)?.[1];
      expect(itemId).toBeDefined();

      // The run's own id finds its review.
      const shown = await ok(['review', 'show', id, itemId!]);
      expect(shown.stdout).toContain('prompt:');
      expect(shown.stdout).toContain('judge rationale:');
      expect(shown.stdout).toMatch(/judge on non_empty: (pass|fail): \d+ content words/);

      const unknown = await arbiter(['review', 'submit', reviewId, itemId!, '--pass', '--criterion', 'made_up=fail'], env());
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('has no criterion "made_up"');
      const submitted = await ok(['review', 'submit', reviewId, itemId!, '--pass', '--criterion', 'non_empty=pass', '--note', 'fine', '--reviewer', 'test']);
      expect(submitted.stdout).toMatch(/recorded .*(agrees|disagrees) with the judge; 3 items still open/);

      const again = await arbiter(['review', 'submit', reviewId, itemId!, '--fail'], env());
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already reviewed');
    });

    // Relative paths were resolved against the config's folder, wherever the CLI ran.
    const manifest = await readManifest(join(dir, 'out', id, 'manifest.jsonl'));
    expect(manifest.map((m) => m.step)).toEqual([1, 2]);
  });

  it('pauses, reconfigures, resumes and cancels a running run', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    // Step 2's file is missing, so the run waits there while we steer it.
    await writeSteps(rollouts, 1, 4);
    const config = join(dir, 'run.json');
    await writeFile(config, JSON.stringify({ steps: 3, rollouts: { type: 'directory', path: 'rollouts' }, outputDir: 'out' }));
    const id = `cli-steer-${Date.now()}`;

    await withWorker(async ({ taskQueue }) => {
      await ok(['run', 'start', config, '--id', id, '--task-queue', taskQueue]);
      await until('step 1', () => progressOf(id), (p) => p.stepsDone === 1);

      expect((await ok(['run', 'pause', id, '--reason', 'look at step 1'])).stdout).toContain('paused: look at step 1');
      const paused = await progressOf(id);
      expect(paused).toMatchObject({ status: 'paused', reason: 'look at step 1' });

      const twice = await arbiter(['run', 'pause', id], env());
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('already paused');

      const badChange = await arbiter(['run', 'reconfigure', id, '{"chunkSize": 0}'], env());
      expect(badChange.code).toBe(2);
      expect(badChange.stderr).toMatch(/chunkSize: /);
      expect((await ok(['run', 'reconfigure', id, '{"chunkSize": 2}'])).stdout).toContain('reconfigured');

      expect((await ok(['run', 'resume', id, '--note', 'fine'])).stdout).toContain('resumed');
      await writeFile(stepRolloutFile(rollouts, 2), JSON.stringify(rollout('s2-a')) + '\n');
      await markReady(rollouts, 2);
      await until('step 2', () => progressOf(id), (p) => p.stepsDone === 2);

      // Step 3 never arrives: abandon it.
      expect((await ok(['run', 'cancel', id, '--abandon-step', '--reason', 'enough'])).stdout).toContain('cancelling');
      const cancelled = await until('cancellation', () => progressOf(id), (p) => p.status === 'cancelled');
      expect(cancelled.stepsDone).toBe(2);
      expect(cancelled.reason).toBe('enough');
    });
  });

  it('says so when a run does not exist', async () => {
    const { code, stderr } = await arbiter(['run', 'status', 'no-such-run'], env());
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('no run no-such-run');
  });
});
