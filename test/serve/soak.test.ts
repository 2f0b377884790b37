import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/fixtures';
import { runServeSoak } from '../soak/serve-soak';
import { useS3Server } from '../helpers/s3-server';

const s3 = useS3Server();

// The CI-sized form of `npm run soak:serve` (issue 16): the same traffic and chaos, fewer requests.
describe('the service path under trainers’ load, restarts and kills (CI-sized soak)', () => {
  it('answers every request, one reward per rollout, each answer equal to the run’s file, no step skipped', async () => {
    const report = await runServeSoak({
      temporalAddress: inject('temporalAddress'),
      dir: await tempDir('arbiter-soak-'),
      clients: 32,
      requestsPerClient: 3,
      batchClients: 4,
      batchRequests: 2,
      batchSize: 8,
      duplicateShare: 0.15,
      serviceRestarts: 1,
      workerKills: 1,
      oversized: 2,
      pauseMs: 1500,
      timeLimitMs: 240_000,
      log: (line) => console.log(`[soak] ${line}`),
    });
    console.log(`[soak] ${JSON.stringify(report)}`);
    expect(report.problems).toEqual([]);
    expect(report.answered).toBe(32 * 3 + 4 * 2);
    expect(report.steps).toBeGreaterThan(1);
    expect(report.executions).toBeGreaterThan(1);
  }, 300_000);

  it('the same on S3: run folder and spill folder in the bucket, each worker in an empty folder of its own', async () => {
    const server = s3();
    const report = await runServeSoak({
      temporalAddress: inject('temporalAddress'),
      dir: server.location(`soak-${Date.now()}`),
      s3Env: server.env as Record<string, string>,
      clients: 16,
      requestsPerClient: 2,
      batchClients: 2,
      batchRequests: 2,
      batchSize: 8,
      duplicateShare: 0.15,
      serviceRestarts: 1,
      workerKills: 1,
      oversized: 1,
      pauseMs: 1000,
      timeLimitMs: 240_000,
      log: (line) => console.log(`[soak s3] ${line}`),
    });
    console.log(`[soak s3] ${JSON.stringify(report)}`);
    expect(report.problems).toEqual([]);
    expect(report.answered).toBe(16 * 2 + 2 * 2);
    expect(report.workerKills).toBe(1);
    expect(report.serviceRestarts).toBe(1);
  }, 300_000);
});
