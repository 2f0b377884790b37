import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** sha256 of every file below `root` by relative path, skipping the folders named in `skip` (e.g. a run's `versions`). */
export async function hashTree(root: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skip.includes(relative(root, path))) await walk(path);
      } else {
        out[relative(root, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
      }
    }
  };
  await walk(root);
  return out;
}
