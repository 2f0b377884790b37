import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { tempDir } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';

const run = promisify(execFile);

describe('a run started from the Temporal CLI, as docs/deploying.md shows, then re-judged from it', () => {
  it('completes and writes one reward artifact per step', async () => {
    const dir = await tempDir();
    // The example input of docs/deploying.md, with its output redirected to a scratch folder.
    const example = JSON.parse(await readFile('examples/contracts/run.json', 'utf8'));
    const input = { ...example, rollouts: { ...example.rollouts, path: resolve(example.rollouts.path) }, outputDir: dir };
    const inputFile = join(dir, 'run.json');
    await writeFile(inputFile, JSON.stringify(input));
    const workflowId = `cli-run-${Date.now()}`;
    const cli = inject('temporalCliPath');
    const address = inject('temporalAddress');

    await withWorker(async ({ taskQueue }) => {
      await run(cli, [
        'workflow', 'start',
        '--address', address,
        '--task-queue', taskQueue,
        '--type', 'rftRun',
        '--workflow-id', workflowId,
        '--input-file', inputFile,
        '--static-summary', 'contract clauses, offline judge',
      ]);
      const { stdout } = await run(cli, ['workflow', 'result', '--address', address, '--workflow-id', workflowId, '--output', 'json']);
      expect(JSON.parse(stdout).status).toMatch(/COMPLETED/);
      const { stdout: described } = await run(cli, ['workflow', 'describe', '--address', address, '--workflow-id', workflowId, '--output', 'json']);
      expect(described).toContain('contract clauses, offline judge');
    });

    const manifest = await readManifest(join(dir, workflowId, 'manifest.jsonl'));
    expect(manifest.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const m of manifest) {
      const lines = (await readFile(join(dir, workflowId, m.file), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(16);
      expect(m.summary.scored).toBe(16);
    }

    // Re-judged from the plain CLI too, with the input docs/watching-and-steering.md shows.
    const rejudgeId = `${workflowId}-rejudge-strict`;
    const rejudgeInput = {
      runId: workflowId,
      outputDir: dir,
      version: 'strict',
      steps: { from: 2, to: 3 },
      rollouts: input.rollouts,
      judge: input.judge,
    };
    await withWorker(async ({ taskQueue }) => {
      await run(cli, ['workflow', 'start', '--address', address, '--task-queue', taskQueue, '--type', 'rejudgeRun', '--workflow-id', rejudgeId, '--input', JSON.stringify(rejudgeInput)]);
      const { stdout } = await run(cli, ['workflow', 'result', '--address', address, '--workflow-id', rejudgeId, '--output', 'json']);
      expect(JSON.parse(stdout).status).toMatch(/COMPLETED/);
    });
    const version = await readManifest(join(dir, workflowId, 'versions', 'strict', 'manifest.jsonl'));
    expect(version.map((m) => m.step)).toEqual([2, 3]);
    for (const m of version) expect(m.summary.scored).toBe(16);
  });
});
