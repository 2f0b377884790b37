import { stat } from 'node:fs/promises';
import { isS3Location } from '../storage/location';

/**
 * The request claims this process has created or read, per ledger folder. A claim is never
 * replaced nor deleted, so what was seen once holds for good: a step assembled from requests this
 * worker has just admitted reads none of their claims again (reading them was most of preparing
 * such a step, issue 19). Only claims are kept, never their absence (anyone may claim a key at any
 * time). A folder is known by its instance (device, inode, birth time), so a run folder deleted
 * and made again starts with nothing remembered. In S3, where a bucket prefix has no such
 * identity, nothing is kept. Bounded: the oldest are forgotten first, and read again when asked.
 */
export interface ClaimMemo {
  get(keyId: string): string | undefined;
  set(keyId: string, content: string): void;
}

const MAX_CLAIMS = 200_000;
const claims = new Map<string, string>();

/** The memo of `folder`'s claims, or undefined when nothing can be kept (S3, or no folder yet). */
export async function claimMemoOf(folder: string): Promise<ClaimMemo | undefined> {
  if (isS3Location(folder)) return undefined;
  const info = await stat(folder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info) return undefined;
  const instance = `${folder}\0${info.dev}:${info.ino}:${info.birthtimeMs}\0`;
  return {
    get: (keyId) => claims.get(instance + keyId),
    set: (keyId, content) => {
      claims.set(instance + keyId, content);
      // A Map iterates in insertion order: the first key is the oldest.
      if (claims.size > MAX_CLAIMS) claims.delete(claims.keys().next().value!);
    },
  };
}
