import { join as joinPath, dirname as dirnamePath, basename as basenamePath, resolve as resolvePath } from 'node:path';

/**
 * Where a run's file lives: a local path, or `s3://bucket/key` in any S3-compatible store.
 * Every path of the on-disk contract is one of these strings, so run folders, rollout sources and
 * outputDir can name either; the functions here keep the `s3://` prefix through joins
 * (`path.join` would fold it to `s3:/`).
 */
export type ObjectLocation = { kind: 's3'; bucket: string; key: string };

const S3_PREFIX = 's3://';

export function isS3Location(location: string): boolean {
  return location.startsWith(S3_PREFIX);
}

/** `s3://bucket/a/b` → bucket and key (`a/b`, no leading slash; empty for the bucket itself). */
export function parseS3Location(location: string): ObjectLocation {
  if (!isS3Location(location)) throw new TypeError(`not an s3:// location: ${location}`);
  const rest = location.slice(S3_PREFIX.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (!bucket) throw new TypeError(`no bucket in ${location} (expected s3://bucket/prefix)`);
  return { kind: 's3', bucket, key };
}

export function s3Location(bucket: string, key: string): string {
  return `${S3_PREFIX}${bucket}/${key}`;
}

/** `path.join` for both kinds: `joinLocation('s3://b/runs', 'r1', 'manifest.jsonl')` → `s3://b/runs/r1/manifest.jsonl`. */
export function joinLocation(base: string, ...parts: string[]): string {
  if (!isS3Location(base)) return joinPath(base, ...parts);
  const { bucket, key } = parseS3Location(base);
  const joined = joinPath('/', key, ...parts).slice(1);
  return s3Location(bucket, joined);
}

export function parentOf(location: string): string {
  if (!isS3Location(location)) return dirnamePath(location);
  const { bucket, key } = parseS3Location(location);
  const slash = key.lastIndexOf('/');
  return s3Location(bucket, slash === -1 ? '' : key.slice(0, slash));
}

export function nameOf(location: string): string {
  if (!isS3Location(location)) return basenamePath(location);
  const { key } = parseS3Location(location);
  return key.slice(key.lastIndexOf('/') + 1);
}

/** `path.resolve` for a path; an `s3://` location is already absolute. */
export function resolveLocation(location: string): string {
  return isS3Location(location) ? location : resolvePath(location);
}
