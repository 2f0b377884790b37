import { link, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { boundedAll } from '../util/bounded-all';
import { writeTemp } from './atomic-write';
import { fsyncDir, mkdirDurable } from './durable';

export interface FileToWrite {
  path: string;
  data: string;
}

/** Open files at once per batch: enough to keep the disk queue full, far under any fd limit. */
const CONCURRENCY = 16;

/**
 * Writes many files atomically at once (each as `writeFileAtomic` does: temp file fsynced, then
 * renamed), fsyncing each folder once at the end rather than once per file. Returns when every
 * rename is durable.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<void> {
  const dirs = foldersOf(files);
  for (const dir of dirs) await mkdirDurable(dir);
  await eachAtMost(files, async ({ path, data }) => {
    const tmp = await writeTemp(path, data);
    await rename(tmp, path);
  });
  for (const dir of dirs) await fsyncDir(dir);
}

/**
 * Creates each file with its whole content unless its name exists already: `true` where this
 * call created it. A crash at any moment leaves either no file or the whole one (never an empty
 * or torn file, as `open(…, 'wx')` followed by a write can), because the content is fsynced in a
 * temp file first and then hard-linked to its name, which fails if the name is taken. Durable
 * (folders fsynced) when it returns.
 */
export async function createFilesExclusive(files: readonly FileToWrite[]): Promise<boolean[]> {
  const dirs = foldersOf(files);
  for (const dir of dirs) await mkdirDurable(dir);
  const created = await eachAtMost(files, async ({ path, data }) => {
    const tmp = await writeTemp(path, data);
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp);
    }
  });
  for (const dir of dirs) await fsyncDir(dir);
  return created;
}

function foldersOf(files: readonly FileToWrite[]): string[] {
  return [...new Set(files.map((f) => dirname(f.path)))];
}

/** `work` over every item, at most CONCURRENCY files at once; results in the items' order. */
export function eachAtMost<T, R>(items: readonly T[], work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return boundedAll(items.length, CONCURRENCY, (i) => work(items[i]!, i));
}
