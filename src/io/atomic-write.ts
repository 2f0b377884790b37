import { randomBytes } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, mkdirDurable } from './durable';

/**
 * Writes a file so that readers see either the old content or the whole new one, never a
 * torn write: write a sibling temp file, fsync it, rename it over the target, fsync the folder
 * (without that last fsync a power cut can undo the rename).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdirDurable(dirname(path));
  await rename(await writeTemp(path, data), path);
  await fsyncDir(dirname(path));
}

/** A fsynced sibling temp file holding `data`, to be renamed or linked to `path`. */
export async function writeTemp(path: string, data: string | Uint8Array): Promise<string> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tmp;
}
