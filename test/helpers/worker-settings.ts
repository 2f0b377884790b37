import { tmpdir } from 'node:os';
import type { WorkerSettings } from '../../src/config/worker-settings';

/** Tests keep their rollouts in temporary folders and their judges on this machine. */
export function testWorkerSettings(): WorkerSettings {
  return { allowedJudgeUrls: ['loopback'], allowedRolloutDirs: [tmpdir(), process.cwd()] };
}

/** The same for worker processes, which read their settings from the environment. */
export const TEST_WORKER_ENV = { ARBITER_ALLOWED_ROLLOUT_DIRS: tmpdir(), ARBITER_ALLOWED_OUTPUT_DIRS: [tmpdir(), process.cwd()].join(',') };
