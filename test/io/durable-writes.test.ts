import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures';

const CHILD = fileURLToPath(new URL('./durable-write-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const strace = await promisify(execFile)('strace', ['-V']).then(
  () => true,
  () => false,
);

interface Syscall {
  call: string;
  /** The paths the call names: a decoded fd (`-y`) or a quoted path argument. */
  paths: string[];
}

/** Runs the writes under strace and returns their fsync/rename/mkdir calls in the order made. */
async function traceWrites(dir: string): Promise<Syscall[]> {
  const out = join(dir, 'strace.out');
  const trace = 'fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat';
  await promisify(execFile)('strace', ['-f', '-y', '-e', `trace=${trace}`, '-o', out, process.execPath, '--import', TSX, CHILD, dir]);
  const calls: Syscall[] = [];
  for (const line of (await readFile(out, 'utf8')).split('\n')) {
    const m = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (!m || m[1] === undefined || line.includes('resumed>')) continue;
    if (/= -1 /.test(line)) continue; // a failed call did nothing
    const paths = [...m[2]!.matchAll(/<([^>]+)>|"([^"]+)"/g)].map((p) => p[1] ?? p[2]!);
    calls.push({ call: m[1], paths });
  }
  return calls.filter((c) => c.paths.some((p) => p.startsWith(dir)));
}

function indexOf(calls: Syscall[], call: RegExp, path: (p: string[]) => boolean): number {
  return calls.findIndex((c) => call.test(c.call) && path(c.paths));
}

const FSYNC = /^f(data)?sync$/;
const RENAME = /^rename(at2?)?$/;

describe.skipIf(!strace)('durable writes (real syscalls, traced with strace)', () => {
  it('fsync the file, then rename it into place, then fsync its folder; new folders are fsynced into their parent', async () => {
    const dir = await tempDir('arbiter-durable-');
    const calls = await traceWrites(dir);
    const describeCalls = calls.map((c) => `${c.call}(${c.paths.join(', ')})`).join('\n');

    for (const target of [join(dir, 'new-a', 'new-b', 'atomic.json'), join(dir, 'steps', 'rewards.jsonl')]) {
      const syncFile = indexOf(calls, FSYNC, (p) => p[0]!.startsWith(`${target}.`) && p[0]!.endsWith('.tmp'));
      const rename = indexOf(calls, RENAME, (p) => p.at(-1) === target);
      const syncDir = calls.findIndex((c, i) => i > rename && FSYNC.test(c.call) && c.paths[0] === dirname(target));
      expect(syncFile, `${target}: fsync of the temp file\n${describeCalls}`).toBeGreaterThanOrEqual(0);
      expect(rename, `${target}: rename after fsync\n${describeCalls}`).toBeGreaterThan(syncFile);
      expect(syncDir, `${target}: fsync of ${dirname(target)} after the rename\n${describeCalls}`).toBeGreaterThan(rename);
    }
    for (const created of [join(dir, 'new-a'), join(dir, 'new-a', 'new-b'), join(dir, 'steps')]) {
      const mkdir = indexOf(calls, /^mkdir(at)?$/, (p) => p.at(-1) === created);
      const syncParent = calls.findIndex((c, i) => i > mkdir && FSYNC.test(c.call) && c.paths[0] === dirname(created));
      expect(mkdir, `mkdir ${created}\n${describeCalls}`).toBeGreaterThanOrEqual(0);
      expect(syncParent, `fsync of ${dirname(created)} after creating ${created}\n${describeCalls}`).toBeGreaterThan(mkdir);
    }
    // An append that creates the manifest: the line is fsynced, then the folder that now names it.
    const manifest = join(dir, 'manifest.jsonl');
    const syncManifest = indexOf(calls, FSYNC, (p) => p[0] === manifest);
    const syncRunDir = calls.findIndex((c, i) => i > syncManifest && FSYNC.test(c.call) && c.paths[0] === dir);
    expect(syncManifest, `fsync of the appended manifest\n${describeCalls}`).toBeGreaterThanOrEqual(0);
    expect(syncRunDir, `fsync of ${dir} after creating the manifest\n${describeCalls}`).toBeGreaterThan(syncManifest);
  });
});

if (!strace) {
  describe('durable writes', () => {
    it.skip('needs strace (apt-get install -y strace; .ci/run installs it)', () => {});
  });
}
