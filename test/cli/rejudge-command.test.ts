import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { readManifestLines } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { tempDir, writeSteps } from '../support/fixtures';
import { arbiter } from './run-cli';

const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });

describe('arbiter run rejudge', () => {
  it('names each bad field of the judge file, and a bad --steps, before connecting', async () => {
    const dir = await tempDir();
    const file = join(dir, 'judge.yaml');
    await writeFile(file, 'provider: bedrock\nrubric: { criteria: [] }\n');
    const bad = await arbiter(['run', 'rejudge', 'some-run', '--judge', file], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`invalid re-judge (--judge ${file}):`);
    expect(bad.stderr).toMatch(/judge\.model: /);
    const steps = await arbiter(['run', 'rejudge', 'some-run', '--judge', file, '--steps', '9-3'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(steps.stderr).toContain('--steps 9-3: the range ends before it starts');
  });

  it('re-judges a run\'s steps into a version, following it like run watch, and says where it is', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 2, 4);
    await writeFile(join(dir, 'run.yaml'), 'steps: 2\nrollouts: { type: directory, path: rollouts }\noutputDir: out\n');
    await writeFile(join(dir, 'judge.yaml'), 'provider: offline-heuristic\nweights: { non_empty: 1, addresses_prompt: 0, matches_reference: 0 }\n');
    const id = `cli-rejudge-${Date.now()}`;
    await withWorker(async ({ taskQueue }) => {
      expect((await arbiter(['run', 'start', join(dir, 'run.yaml'), '--id', id, '--task-queue', taskQueue], env())).code).toBe(0);
      expect((await arbiter(['run', 'watch', id], env())).code).toBe(0);
      const done = await arbiter(['run', 'rejudge', id, '--judge', join(dir, 'judge.yaml'), '--steps', '2', '--version', 'lenient', '--task-queue', taskQueue], env());
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain(`started re-judge ${id}-rejudge-lenient of run ${id} as version lenient`);
      expect(done.stdout).toMatch(/^step 2: 4 rollouts, reward mean /m);
      expect(done.stdout).toContain(`version lenient: 1 steps re-judged, written to ${join(dir, 'out', id, 'versions', 'lenient')}`);
      const again = await arbiter(['run', 'rejudge', id, '--judge', join(dir, 'judge.yaml'), '--version', 'lenient', '--task-queue', taskQueue], env());
      expect(again.stderr).toContain(`version lenient of run ${id} exists or existed; pick another --version`);
    });
    const lines = await readManifestLines(join(dir, 'out', id, 'versions', 'lenient'));
    expect(lines[0].version).toMatchObject({ name: 'lenient', run: id, steps: { from: 2, to: 2, checkpointed: [2] } });
  });
});
