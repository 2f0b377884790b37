import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CHILD = fileURLToPath(new URL('./bundle-workflows-child.ts', import.meta.url));
// Resolved from this file, not from the working directory (`--import tsx` would be): a worker may
// run anywhere, e.g. in a folder of its own that shares nothing with the other workers.
const TSX = import.meta.resolve('tsx');

/**
 * Bundles the workflows in a short-lived child process and returns the bundle's path. Bundling
 * in the worker itself left webpack's ~140 MiB in the worker's heap for its whole life
 * (bench:memory: peak 654 MiB with 100,000 rollouts, 366 MiB with a prebuilt bundle).
 */
export async function bundleWorkflowsInChild(): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), 'arbiter-bundle-')), 'workflows.js');
  await promisify(execFile)(process.execPath, ['--import', TSX, CHILD, out], { maxBuffer: 64 * 1024 * 1024 });
  return out;
}
