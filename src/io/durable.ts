import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes a folder's entries (a rename into it, a file or folder created in it) survive power
 * loss: until the folder itself is fsynced, the new name may exist only in the page cache.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `mkdir -p` whose new folders are each fsynced into their parent, so they outlive a power cut. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // `first` is the topmost folder created: every folder from its parent down to dir's parent gained an entry.
  const parents: string[] = [];
  for (let d = dir; d !== dirname(first); d = dirname(d)) parents.push(dirname(d));
  for (const parent of parents.reverse()) await fsyncDir(parent);
}

/** Flushes a closed file's data to disk (fsync through a fresh descriptor reaches the same inode). */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
