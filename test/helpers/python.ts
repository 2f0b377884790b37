import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const runFile = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The venv scripts/test-python keeps: the Python client as users install it, and the trainers' code the tests run. */
export const PYTHON = join(ROOT, '.tools/pyenv/bin/python');

/** Installs (or finds) that venv; for a `beforeAll` with a few minutes' timeout. */
export async function installPythonForTests(): Promise<void> {
  await runFile('bash', [join(ROOT, 'scripts/test-python'), '--install-only'], { cwd: ROOT });
}
