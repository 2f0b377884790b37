import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { appendDurably } from '../io/append-durably';
import { createFilesExclusive, writeFilesAtomic } from '../io/atomic-batch';
import { writeFileAtomic } from '../io/atomic-write';
import { mkdirDurable } from '../io/durable';
import { AtomicJsonlWriter } from '../io/jsonl-writer';
import { readTextIfExists } from '../io/read-if-exists';
import { readLines } from '../io/read-lines';
import type { FileToWrite, JsonlWriter, Store, StoredFileInfo } from './store';

/**
 * The local filesystem (or a shared POSIX one): atomic writes by fsynced temp file and rename,
 * exclusive creates by hard link, appends by O_APPEND and fsync (src/io says how each holds).
 */
export class FileStore implements Store {
  readText(location: string): Promise<string | undefined> {
    return readTextIfExists(location);
  }

  bytes(location: string, options: { start?: number; end?: number } = {}): AsyncIterable<Uint8Array> {
    return createReadStream(location, { start: options.start, end: options.end });
  }

  readLines(location: string, options?: { maxLineBytes?: number; start?: number; end?: number }) {
    return readLines(location, options);
  }

  async stat(location: string): Promise<StoredFileInfo | undefined> {
    try {
      const info = await stat(location);
      return { size: info.size, modifiedMs: info.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(folder: string): Promise<string[]> {
    try {
      return (await readdir(folder)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  write(location: string, data: string | Uint8Array): Promise<void> {
    return writeFileAtomic(location, data);
  }

  writeMany(files: readonly FileToWrite[]): Promise<void> {
    return writeFilesAtomic(files);
  }

  async create(location: string, data: string): Promise<boolean> {
    const [created] = await createFilesExclusive([{ path: location, data }]);
    return created!;
  }

  createMany(files: readonly FileToWrite[]): Promise<boolean[]> {
    return createFilesExclusive(files);
  }

  async append(location: string, text: string): Promise<void> {
    try {
      await appendDurably(location, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdirDurable(dirname(location));
      await appendDurably(location, text);
    }
  }

  remove(location: string): Promise<void> {
    return rm(location, { force: true });
  }

  removeTree(folder: string): Promise<void> {
    return rm(folder, { recursive: true, force: true });
  }

  jsonlWriter(location: string): JsonlWriter {
    return new AtomicJsonlWriter(location);
  }
}
