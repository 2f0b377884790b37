/**
 * `npm run bench:storage`: what keeping a run in S3 costs against a folder, measured in one run.
 *
 * The same run (a directory source, the offline heuristic judge: no judge latency, so storage is
 * all that differs) on one dev server and one worker in this process, its step files and run
 * folder either in a temporary folder or in a real S3 server on loopback (gofakes3 with its bolt
 * backend, scripts/s3-server: one writer at a time, fsync per write, so a pessimistic stand-in for
 * a real store's latency it does not have either). The two alternate, BENCH_ROUNDS times each,
 * after one unmeasured warm-up run; prints the medians and their ratio.
 *
 *   BENCH_STEPS (3)  BENCH_ROLLOUTS (1000 per step)  BENCH_ROUNDS (3)  BENCH_CHUNK_SIZE (64)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../src/contract/manifest';
import { RunLayout } from '../src/contract/run-layout';
import { rftRun } from '../workflows/rft-run';
import { startS3Server } from '../test/helpers/s3-server';
import { writeSteps } from '../test/support/fixtures';
import { benchServer, envNumber, median, note, quietRuntime, round, runBench, withBenchWorker } from './harness';

const STEPS = envNumber('BENCH_STEPS', 3);
const ROLLOUTS = envNumber('BENCH_ROLLOUTS', 1000);
const ROUNDS = envNumber('BENCH_ROUNDS', 3);
const CHUNK_SIZE = envNumber('BENCH_CHUNK_SIZE', 64);

runBench(async () => {
  quietRuntime();
  const server = await benchServer();
  const s3 = await startS3Server('arbiter-bench');
  const undoEnv = s3.use();
  const local = await mkdtemp(join(tmpdir(), 'arbiter-bench-storage-'));
  // The worker in this process may write where both kinds of run go.
  process.env.ARBITER_ALLOWED_OUTPUT_DIRS = [local, s3.location('runs')].join(',');
  const taskQueue = `bench-storage-${randomUUID()}`;
  const times: Record<'folder' | 's3', number[]> = { folder: [], s3: [] };
  try {
    await withBenchWorker(server, { taskQueue, allowedRolloutDirs: [local, s3.location('rollouts')] }, async (client) => {
      const once = async (kind: 'folder' | 's3', label: string) => {
        const root = kind === 's3' ? s3.location(`rollouts/${label}`) : join(local, 'rollouts', label);
        await writeSteps(root, STEPS, ROLLOUTS);
        const outputDir = kind === 's3' ? s3.location('runs') : join(local, 'runs');
        const started = Date.now();
        const result = await client.workflow.execute(rftRun, {
          taskQueue,
          workflowId: `bench-storage-${label}`,
          args: [{ steps: STEPS, rollouts: { type: 'directory', path: root }, judge: { provider: 'offline-heuristic' }, chunkSize: CHUNK_SIZE, outputDir, cache: false }],
        });
        const ms = Date.now() - started;
        if (result.status !== 'completed') throw new Error(`${label}: ${JSON.stringify(result)}`);
        const manifest = await readManifest(RunLayout.of(outputDir, `bench-storage-${label}`).manifest);
        const scored = manifest.reduce((n, m) => n + m.summary.scored, 0);
        if (scored !== STEPS * ROLLOUTS) throw new Error(`${label}: ${scored} of ${STEPS * ROLLOUTS} scored`);
        return ms;
      };
      await once('folder', `warm-${randomUUID().slice(0, 6)}`);
      await once('s3', `warm-${randomUUID().slice(0, 6)}`);
      for (let r = 0; r < ROUNDS; r++) {
        for (const kind of r % 2 === 0 ? (['folder', 's3'] as const) : (['s3', 'folder'] as const)) {
          const ms = await once(kind, `${kind}-${r}-${randomUUID().slice(0, 6)}`);
          times[kind].push(ms);
          note(`round ${r + 1} ${kind}: ${ms} ms`);
        }
      }
    });
  } finally {
    undoEnv();
    await s3.stop();
    await server.stop();
    await rm(local, { recursive: true, force: true });
  }
  const folder = median(times.folder);
  const inS3 = median(times.s3);
  return {
    steps: STEPS,
    rollouts_per_step: ROLLOUTS,
    chunk_size: CHUNK_SIZE,
    folder_ms: folder,
    s3_ms: inS3,
    s3_over_folder: round(inS3 / folder, 2),
    s3_added_ms_per_rollout: round((inS3 - folder) / (STEPS * ROLLOUTS), 3),
    runs_ms: times,
  };
});
