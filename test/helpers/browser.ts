import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const FIND_SCRIPT = fileURLToPath(new URL('../../scripts/chromium', import.meta.url));

let executablePath: Promise<string> | undefined;

/**
 * The Chromium binary scripts/chromium finds (or installs, once): asked once per test process,
 * since the script may run apt-get the first time.
 */
export function chromiumPath(): Promise<string> {
  executablePath ??= promisify(execFile)('bash', [FIND_SCRIPT, '--which'], {
    encoding: 'utf8',
    // A first install downloads a couple of hundred MB.
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    ({ stdout }) => {
      const path = stdout.trim().split('\n').pop() ?? '';
      if (!path) throw new Error('scripts/chromium printed no path');
      return path;
    },
    (err: Error & { stderr?: string }) => {
      executablePath = undefined;
      throw new Error(`scripts/chromium found no browser: ${err.stderr?.trim() || err.message}`);
    },
  );
  return executablePath;
}

/**
 * Runs body with a fresh headless Chromium (Debian's, via scripts/chromium) and closes it after,
 * whatever body does. --no-sandbox because tests run as root in containers, where Chromium's
 * sandbox refuses to start.
 */
export async function withBrowser<T>(body: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: await chromiumPath(),
    headless: true,
    args: ['--no-sandbox'],
  });
  try {
    return await body(browser);
  } finally {
    await browser.close();
  }
}
