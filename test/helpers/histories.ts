import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));

/**
 * With ARBITER_RECORD_HISTORIES=1, saves a finished run's event history into test/histories/
 * (as `temporal workflow show --output json` prints it), where the replay test keeps checking
 * that today's workflow code still replays it.
 */
export async function maybeRecordHistory(name: string, workflowId: string): Promise<void> {
  if (process.env.ARBITER_RECORD_HISTORIES !== '1') return;
  const { stdout } = await promisify(execFile)(
    inject('temporalCliPath'),
    ['workflow', 'show', '--address', inject('temporalAddress'), '--workflow-id', workflowId, '--output', 'json'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  await mkdir(HISTORIES_DIR, { recursive: true });
  // The workflow id is kept beside the events: child ids derive from it, so replay needs it.
  await writeFile(join(HISTORIES_DIR, `${name}.json`), JSON.stringify({ workflowId, history: JSON.parse(stdout) }));
}
