import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'test', 'temporal', 'fixtures', 'close-during-retry.ts');
const TSX = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function runScript(which: 'sdk' | 'safe'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, SCRIPT, which], { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// The CI run of 2026-12-04 failed on this: a soak closed its client connection while a call
// waited for its retry, and the retry's timer threw "Channel has been shut down" (uncaught).
describe('a client connection closed while a call waits for its retry', () => {
  it('with the SDK’s default interceptors, the retry timer throws and ends the process', async () => {
    const run = await runScript('sdk');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('createCall');
  });

  it('with closeSafeInterceptors, the call is rejected as CANCELLED and the process goes on', async () => {
    const run = await runScript('safe');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ outcome: 'rejected', code: status.CANCELLED });
  });
});
