import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('../../../scripts/temporal-server', import.meta.url));

export type CliSource = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/**
 * Finds the Temporal CLI the way `scripts/temporal-server` does (env, PATH, .tools, go install),
 * so shell users and Node callers get the same binary. When the script has nothing to offer,
 * @temporalio/testing's download is the last resort (it needs internet).
 */
export async function findTemporalCli(log: (line: string) => void = () => {}): Promise<CliSource> {
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', [SCRIPT, '--which'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const line of stderr.split('\n')) if (line.trim()) log(line);
    const path = stdout.trim().split('\n').pop();
    if (path) return { type: 'existing-path', path };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    for (const line of (e.stderr ?? '').split('\n')) if (line.trim()) log(line);
    if (e.code !== 3) throw err;
  }
  log('temporal-server: falling back to the CLI download of @temporalio/testing');
  return { type: 'cached-download' };
}
