/**
 * `npm run soak:serve`: the service path soaked at full size (issue 16), a number of times, on
 * loopback only; bounded in count and time, it stops by itself. Each round: 32 closed-loop
 * one-sample clients in OpenRLHF's current shape, native and Nova batch clients, duplicate
 * retries racing their originals, two services on one run with random restarts of one, worker
 * SIGKILLs, continue-as-new every step, oversized and invalid samples, a pause and a resume; then
 * the audit (test/soak/serve-soak.ts). Prints one line per round on stderr and a JSON summary.
 *
 *   SOAK_ROUNDS (5)  SOAK_CLIENTS (32)  SOAK_REQUESTS (20 per client)  SOAK_KILLS (3)  SOAK_RESTARTS (3)
 *   SOAK_S3=1: the run folder and spill folder in a real S3 server (scripts/s3-server), each
 *   worker in an empty folder of its own
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServeSoak, type SoakReport } from '../test/soak/serve-soak';
import { startS3Server, type S3Server } from '../test/helpers/s3-server';
import { benchServer, envNumber, note, runBench } from './harness';

const ROUNDS = envNumber('SOAK_ROUNDS', 5);
const CLIENTS = envNumber('SOAK_CLIENTS', 32);
const REQUESTS = envNumber('SOAK_REQUESTS', 20);
const KILLS = envNumber('SOAK_KILLS', 3);
const RESTARTS = envNumber('SOAK_RESTARTS', 3);
const ON_S3 = process.env.SOAK_S3 === '1';

runBench(async () => {
  const server = await benchServer();
  const s3: S3Server | undefined = ON_S3 ? await startS3Server() : undefined;
  const undoS3Env = s3?.use();
  const reports: SoakReport[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const dir = s3 ? s3.location(`soak-round-${round}`) : await mkdtemp(join(tmpdir(), 'arbiter-soak-'));
      try {
        const report = await runServeSoak({
          temporalAddress: server.address,
          dir,
          s3Env: s3?.env as Record<string, string> | undefined,
          clients: CLIENTS,
          requestsPerClient: REQUESTS,
          batchClients: 8,
          batchRequests: 5,
          batchSize: 16,
          duplicateShare: 0.1,
          serviceRestarts: RESTARTS,
          workerKills: KILLS,
          oversized: 4,
          pauseMs: 3000,
          timeLimitMs: 15 * 60_000,
          seed: round,
          log: (line) => note(`round ${round}: ${line}`),
        });
        reports.push(report);
        const { problems, ...figures } = report;
        note(`round ${round}: ${JSON.stringify(figures)}${problems.length ? `\n  PROBLEMS:\n  ${problems.join('\n  ')}` : ''}`);
      } finally {
        if (!s3) await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    undoS3Env?.();
    await s3?.stop();
    await server.stop();
  }
  const sum = (f: (r: SoakReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  return {
    rounds: reports.length,
    rounds_clean: reports.filter((r) => r.problems.length === 0).length,
    requests: sum((r) => r.requests),
    answered: sum((r) => r.answered),
    rollouts: sum((r) => r.rollouts),
    refused_samples: sum((r) => r.refusedSamples),
    steps: sum((r) => r.steps),
    executions: sum((r) => r.executions),
    duplicates_sent: sum((r) => r.duplicatesSent),
    service_restarts: sum((r) => r.serviceRestarts),
    worker_kills: sum((r) => r.workerKills),
    judge_calls: sum((r) => r.judgeCalls),
    judged_twice: sum((r) => r.judgedTwice),
    seconds: reports.map((r) => r.seconds),
    problems: reports.flatMap((r) => r.problems).slice(0, 20),
  };
});
