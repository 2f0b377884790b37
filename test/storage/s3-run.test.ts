import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { RunLayout } from '../../src/contract/run-layout';
import { joinLocation } from '../../src/storage/location';
import { storeFor } from '../../src/storage/stores';
import { killChildren, spawnWorker } from '../helpers/processes';
import { useS3Server } from '../helpers/s3-server';
import { tempDir, writeSteps } from '../support/fixtures';

const run = promisify(execFile);

const s3 = useS3Server();

afterAll(async () => {
  await killChildren();
});

describe('a run whose rollouts and output live in S3', () => {
  it('started by the plain Temporal CLI, judged by a worker that shares no folder with anyone, completes with every rollout scored once', async () => {
    const server = s3();
    const id = randomUUID().slice(0, 8);
    const rollouts = server.location(`trainer/${id}`);
    const outputDir = server.location('runs');
    const ids = await writeSteps(rollouts, 3, 16);
    // The worker's own working directory, empty: it must stay so.
    const workerDir = await tempDir('arbiter-s3-worker-');
    const taskQueue = `s3-run-${id}`;
    const worker = spawnWorker(
      {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        ARBITER_TASK_QUEUE: taskQueue,
        ...(server.env as Record<string, string>),
        ARBITER_ALLOWED_OUTPUT_DIRS: outputDir,
        ARBITER_ALLOWED_ROLLOUT_DIRS: server.location('trainer'),
      },
      { cwd: workerDir },
    );
    await worker.ready;

    const cli = inject('temporalCliPath');
    const address = inject('temporalAddress');
    const workflowId = `s3-run-${id}`;
    const input = {
      steps: 3,
      rollouts: { type: 'directory', path: rollouts },
      judge: { provider: 'offline-heuristic' },
      chunkSize: 4,
      maxChunksInFlight: 4,
      outputDir,
    };
    await run(cli, ['workflow', 'start', '--address', address, '--task-queue', taskQueue, '--type', 'rftRun', '--workflow-id', workflowId, '--input', JSON.stringify(input)]);
    const { stdout } = await run(cli, ['workflow', 'result', '--address', address, '--workflow-id', workflowId, '--output', 'json']);
    expect(JSON.parse(stdout).status, worker.output()).toMatch(/COMPLETED/);

    const layout = RunLayout.of(outputDir, workflowId);
    expect(layout.runDir).toBe(`s3://${server.bucket}/runs/${workflowId}`);
    expect(JSON.parse((await storeFor(layout.owner).readText(layout.owner))!)).toMatchObject({ workflowId });
    const manifest = await readManifest(layout.manifest);
    expect(manifest.map((m) => m.step)).toEqual([1, 2, 3]);
    const scored: string[] = [];
    for (const m of manifest) {
      const file = joinLocation(layout.runDir, m.file);
      const records = (await storeFor(file).readText(file))!.trim().split('\n').map((l) => JSON.parse(l) as { id: string; step: number; reward: number });
      expect(records).toHaveLength(16);
      expect(m.summary.scored).toBe(16);
      for (const r of records) expect(r.id.startsWith(`s${m.step}-`), r.id).toBe(true);
      scored.push(...records.map((r) => r.id));
    }
    expect(scored.sort()).toEqual([...ids].sort());
    // Scratch space is cleaned up in the bucket, and nothing at all was written beside the worker.
    expect(await storeFor(layout.runDir).list(joinLocation(layout.runDir, 'work'))).toEqual([]);
    expect(await readdir(workerDir)).toEqual([]);

    // The run report reads the run in the bucket and is written beside it there, from anywhere.
    const report = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', 'report', workflowId, '--dir', layout.runDir], {
      env: { ...process.env, ...(server.env as Record<string, string>) },
    });
    expect(report.stdout).toContain(`wrote ${joinLocation(layout.runDir, 'report.html')}`);
    expect(report.stdout).toContain('3 steps');
    const html = await storeFor(layout.runDir).readText(joinLocation(layout.runDir, 'report.html'));
    expect(html).toContain('<html');
    expect(html).toContain(workflowId);
  });
});
