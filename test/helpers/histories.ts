import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));

/**
 * With ARBITER_RECORD_HISTORIES=1, saves a finished run's event history into test/histories/
 * (as `temporal workflow show --output json` prints it), where the replay test keeps checking
 * that today's workflow code still replays it. A history already there is kept, never recorded
 * over: it stands for the runs that older code left running. To record what new code does,
 * give the recording a new name. `runId` picks one execution of a chain (default: the latest);
 * `address`, a dev server of the test's own (default: the suite's).
 */
export async function maybeRecordHistory(name: string, workflowId: string, runId?: string, address = inject('temporalAddress')): Promise<void> {
  if (process.env.ARBITER_RECORD_HISTORIES !== '1') return;
  const file = join(HISTORIES_DIR, `${name}.json`);
  if (await access(file).then(() => true, () => false)) {
    console.log(`history ${name} is kept as recorded (test/histories is append-only)`);
    return;
  }
  const { stdout } = await promisify(execFile)(
    inject('temporalCliPath'),
    ['workflow', 'show', '--address', address, '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  await mkdir(HISTORIES_DIR, { recursive: true });
  // The workflow id is kept beside the events: child ids derive from it, so replay needs it.
  await writeFile(file, JSON.stringify({ workflowId, history: JSON.parse(stdout) }));
}
