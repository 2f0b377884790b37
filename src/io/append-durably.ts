import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './durable';

/**
 * Appends text and fsyncs it before returning. When the append created the file, its folder
 * is fsynced too: otherwise a power cut could lose the file's name along with what it vouches for.
 */
export async function appendDurably(path: string, text: string): Promise<void> {
  let handle;
  let created = false;
  try {
    handle = await open(path, 'ax');
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    handle = await open(path, 'a');
  }
  try {
    await handle.appendFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await fsyncDir(dirname(path));
}
