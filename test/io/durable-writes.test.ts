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
  /** Lines of the trace where the call began and where it returned (later when another thread's call came between). */
  start: number;
  end: number;
}

/** Runs the writes under strace and returns their fsync/rename/link/mkdir calls in the order made. */
async function traceWrites(dir: string): Promise<Syscall[]> {
  const out = join(dir, 'strace.out');
  const trace = 'fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,link,linkat';
  await promisify(execFile)('strace', ['-f', '-y', '-e', `trace=${trace}`, '-o', out, process.execPath, '--import', TSX, CHILD, dir]);
  const calls: Syscall[] = [];
  const unfinished = new Map<string, Syscall>();
  const lines = (await readFile(out, 'utf8')).split('\n');
  for (const [n, line] of lines.entries()) {
    const resumed = /^(\d+)\s+<\.\.\. \w+ resumed>/.exec(line);
    if (resumed) {
      const call = unfinished.get(resumed[1]!);
      unfinished.delete(resumed[1]!);
      if (call && !/= -1 /.test(line)) call.end = n;
      else if (call) calls.splice(calls.indexOf(call), 1);
      continue;
    }
    const m = /^(\d+)\s+(\w+)\((.*)$/.exec(line);
    if (!m || m[2] === undefined) continue;
    if (/= -1 /.test(line)) continue; // a failed call did nothing
    const paths = [...m[3]!.replace(' <unfinished ...>', '').matchAll(/<([^>]+)>|"([^"]+)"/g)].map((p) => p[1] ?? p[2]!);
    const call: Syscall = { call: m[2], paths, start: n, end: n };
    if (line.includes('<unfinished ...>')) unfinished.set(m[1]!, call);
    calls.push(call);
  }
  return calls.filter((c) => c.paths.some((p) => p.startsWith(dir)));
}

function indexOf(calls: Syscall[], call: RegExp, path: (p: string[]) => boolean): number {
  return calls.findIndex((c) => call.test(c.call) && path(c.paths));
}

const FSYNC = /^f(data)?sync$/;
const RENAME = /^rename(at2?)?$/;
const LINK = /^link(at)?$/;

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

    // Many files at once: each fsynced before its rename or link; the folder once, after the last.
    for (const [folder, names, into] of [
      ['batch', ['file-1.json', 'file-2.json', 'file-3.json'], RENAME],
      ['records', ['record-1.json', 'record-2.json'], LINK],
    ] as const) {
      const placed = names.map((name) => {
        const target = join(dir, folder, name);
        const syncTemp = indexOf(calls, FSYNC, (p) => p[0]!.startsWith(`${target}.`) && p[0]!.endsWith('.tmp'));
        const move = indexOf(calls, into, (p) => p.at(-1) === target);
        expect(syncTemp, `${target}: fsync of its temp file\n${describeCalls}`).toBeGreaterThanOrEqual(0);
        expect(move, `${target}: ${into.source}\n${describeCalls}`).toBeGreaterThanOrEqual(0);
        expect(calls[move]!.start, `${target}: ${into.source} after the fsync returned\n${describeCalls}`).toBeGreaterThan(calls[syncTemp]!.end);
        return calls[move]!.end;
      });
      const lastPlaced = Math.max(...placed);
      const syncFolder = calls.find((c) => c.start > lastPlaced && FSYNC.test(c.call) && c.paths[0] === join(dir, folder));
      expect(syncFolder, `fsync of ${folder}/ after its last file\n${describeCalls}`).toBeDefined();
    }
  });
});

if (!strace) {
  describe('durable writes', () => {
    it.skip('needs strace (apt-get install -y strace; .ci/run installs it)', () => {});
  });
}
