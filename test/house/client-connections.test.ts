import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// The guard itself, and the child script that shows the SDK's default failing without it.
const ALLOWED = new Set(['src/temporal/closed-connection.ts', 'test/temporal/fixtures/close-during-retry.ts']);

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...(await tsFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('client connections', () => {
  it('are all made through connectSafely: a connection closed during a retry must not throw from a timer', async () => {
    const offenders: string[] = [];
    for (const top of ['src', 'test', 'bench', 'demo', 'scripts']) {
      for (const file of await tsFiles(join(REPO, top)).catch(() => [])) {
        const rel = relative(REPO, file);
        if (ALLOWED.has(rel)) continue;
        const lines = (await readFile(file, 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (/(?<!Native)Connection\.(connect|lazy)\(/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});
