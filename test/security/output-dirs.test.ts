import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkOutputDir, workerSettingsFromEnv, WorkerSettingsRefusal } from '../../src/config/worker-settings';
import { judgeValidation } from '../../workflows/judge-validation';
import { rftRun } from '../../workflows/rft-run';
import { tempDir, writeSteps } from '../support/fixtures';
import { withWorker } from '../helpers/temporal';

// Issue 16, case 10: the worker writes only where its operator allows.

const innermost = (err: unknown) => {
  let e = err as Error;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
};

describe('ARBITER_ALLOWED_OUTPUT_DIRS', () => {
  it('allows folders inside the allowed ones (even ones not made yet) and refuses the rest, symlinks resolved', async () => {
    const root = await tempDir();
    const allowed = join(root, 'runs');
    await mkdir(allowed);
    await checkOutputDir(join(allowed, 'a', 'b'), [allowed]);
    await checkOutputDir(allowed, [allowed]);
    await expect(checkOutputDir(join(root, 'elsewhere'), [allowed])).rejects.toBeInstanceOf(WorkerSettingsRefusal);
    await expect(checkOutputDir(join(allowed, '..', 'x'), [allowed])).rejects.toThrow(/ARBITER_ALLOWED_OUTPUT_DIRS/);
    await symlink(root, join(allowed, 'escape'));
    await expect(checkOutputDir(join(allowed, 'escape', 'x'), [allowed])).rejects.toBeInstanceOf(WorkerSettingsRefusal);
    expect(workerSettingsFromEnv({}, '/srv/w').allowedOutputDirs).toEqual(['/srv/w']);
    expect(workerSettingsFromEnv({ ARBITER_ALLOWED_OUTPUT_DIRS: 'runs, /data' }, '/srv/w').allowedOutputDirs).toEqual(['/srv/w/runs', '/data']);
  });

  it('a run whose outputDir is outside them fails at once with a ConfigError naming the setting, writing nothing', async () => {
    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 1, 2);
    await withWorker(async ({ client, taskQueue }) => {
      const outside = `/var/tmp/arbiter-not-allowed-${Date.now()}`;
      const run = client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `outside-${Date.now()}`,
        args: [{ steps: 1, rollouts: { type: 'directory', path: join(dir, 'rollouts') }, outputDir: outside }],
      });
      const message = await run.then(() => 'completed', innermost);
      expect(message).toMatch(/outputDir \/var\/tmp\/arbiter-not-allowed-\d+ is outside the folders this worker writes into/);
      expect(message).toContain('ARBITER_ALLOWED_OUTPUT_DIRS');
      await expect(readFile(outside)).rejects.toThrow(/ENOENT/);
    });
  });

  it('a judge validation refuses a workflow id that is not a safe folder name', async () => {
    await withWorker(async ({ client, taskQueue }) => {
      const run = client.workflow.execute(judgeValidation, {
        taskQueue,
        workflowId: `../escape-${Date.now()}`,
        args: [{ dataset: 'examples/validation/contract-clauses/items.jsonl', outputDir: await tempDir(), judges: [{ name: 'offline', judge: { provider: 'offline-heuristic' } }] } as never],
      });
      expect(await run.then(() => 'completed', innermost)).toMatch(/validation id "\.\.\/escape-\d+" is not a safe folder name/);
    });
  });
});

describe('docker-compose.yml', () => {
  it('publishes every port on 127.0.0.1 only', async () => {
    const compose = parse(await readFile('docker-compose.yml', 'utf8')) as { services: Record<string, { ports?: string[] }> };
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
  });
});
