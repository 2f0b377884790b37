import { realpath } from 'node:fs/promises';
import { posix, resolve, sep } from 'node:path';
import { isS3Location, parseS3Location, s3Location } from '../storage/location';

/**
 * What the worker's operator allows, whatever run configs and Updates ask for: a run config
 * comes from whoever can start a workflow, but the API key and the files are the worker's.
 */
export interface WorkerSettings {
  /**
   * Where an `openai-compatible` judge's `baseUrl` from a run config may point: URL prefixes
   * (scheme, host, port and path prefix must match), or `loopback` for any port on this machine.
   * A judge without `baseUrl` uses the worker's own OPENAI_BASE_URL and is always allowed.
   */
  allowedJudgeUrls: string[];
  /**
   * Folders rollout files may be read from (rollouts.path, submitRollouts paths), compared after
   * realpath; or `s3://bucket/prefix` for objects under that prefix (never by default).
   */
  allowedRolloutDirs: string[];
  /**
   * Folders runs and validations may write into (their `outputDir`), compared after realpath, or
   * `s3://bucket/prefix`. Absent: the working directory.
   */
  allowedOutputDirs?: string[];
}

export const JUDGE_URLS_VAR = 'ARBITER_ALLOWED_JUDGE_URLS';
export const ROLLOUT_DIRS_VAR = 'ARBITER_ALLOWED_ROLLOUT_DIRS';
export const OUTPUT_DIRS_VAR = 'ARBITER_ALLOWED_OUTPUT_DIRS';

/** A request the worker's settings do not allow: not retryable, the run stops with this message. */
export class WorkerSettingsRefusal extends Error {
  override name = 'WorkerSettingsRefusal';
}

/**
 * The settings of a worker process: ARBITER_ALLOWED_JUDGE_URLS (comma-separated; default
 * `loopback`) plus OPENAI_BASE_URL when set, and ARBITER_ALLOWED_ROLLOUT_DIRS and
 * ARBITER_ALLOWED_OUTPUT_DIRS (comma-separated folders, relative to the working directory, or
 * `s3://bucket/prefix`; default the working directory).
 */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WorkerSettings {
  const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const judgeUrls = env[JUDGE_URLS_VAR] === undefined ? ['loopback'] : list(env[JUDGE_URLS_VAR]);
  const baseUrl = env.OPENAI_BASE_URL?.trim();
  const place = (d: string) => (isS3Location(d) ? normalS3(d) : resolve(cwd, d));
  const dirs = env[ROLLOUT_DIRS_VAR] === undefined ? [cwd] : list(env[ROLLOUT_DIRS_VAR]).map(place);
  const outputDirs = env[OUTPUT_DIRS_VAR] === undefined ? [cwd] : list(env[OUTPUT_DIRS_VAR]).map(place);
  return { allowedJudgeUrls: baseUrl ? [...judgeUrls, baseUrl] : judgeUrls, allowedRolloutDirs: dirs, allowedOutputDirs: outputDirs };
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** Throws a WorkerSettingsRefusal unless the judge URL is one the worker allows. */
export function checkJudgeUrl(baseUrl: string, allowed: string[]): void {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new WorkerSettingsRefusal(`judge.baseUrl ${baseUrl} is not a URL`);
  }
  if (!allowed.some((entry) => urlMatches(url, entry))) {
    throw new WorkerSettingsRefusal(
      `judge.baseUrl ${url.href} is not allowed by this worker: the worker's API key and every rollout would go there. ` +
        `Allowed: ${allowed.join(', ') || 'none'}. To allow it, add it to ${JUDGE_URLS_VAR} in the worker's environment`,
    );
  }
}

function urlMatches(url: URL, entry: string): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (entry === 'loopback') return LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  let prefix: URL;
  try {
    prefix = new URL(entry);
  } catch {
    return false;
  }
  if (url.protocol !== prefix.protocol || url.host !== prefix.host) return false;
  // `new URL` has already resolved `..`; a prefix ends at a path segment, so /v1 does not allow /v10.
  const base = prefix.pathname.replace(/\/+$/, '');
  return url.pathname === base || url.pathname.startsWith(`${base}/`);
}

/**
 * Resolves a rollout file (symlinks and `..` included) and throws a WorkerSettingsRefusal
 * unless it lies inside one of the allowed folders. Returns the resolved path.
 */
export async function checkRolloutFile(file: string, allowedDirs: string[]): Promise<string> {
  if (isS3Location(file)) {
    // An object key has no links to follow: the check is lexical, `..` resolved first.
    const object = normalS3(file);
    if (insideS3(object, allowedDirs)) return object;
    throw new WorkerSettingsRefusal(refusal('rollout file', file, allowedDirs));
  }
  const real = await realpath(file); // ENOENT is the caller's "not found"
  if (await insideAny(real, allowedDirs)) return real;
  throw new WorkerSettingsRefusal(refusal('rollout file', file, allowedDirs));
}

/** The early check of a rollout folder that may not exist yet: lexical, after resolving what exists. */
export async function checkRolloutDir(dir: string, allowedDirs: string[]): Promise<void> {
  if (isS3Location(dir)) {
    if (!insideS3(normalS3(dir), allowedDirs)) throw new WorkerSettingsRefusal(refusal('rollout folder', dir, allowedDirs));
    return;
  }
  const real = await realpath(dir).catch(() => resolve(dir));
  if (!(await insideAny(real, allowedDirs))) throw new WorkerSettingsRefusal(refusal('rollout folder', dir, allowedDirs));
}

async function insideAny(real: string, allowedDirs: string[]): Promise<boolean> {
  for (const dir of allowedDirs) {
    if (isS3Location(dir)) continue;
    const root = await realpath(dir).catch(() => resolve(dir));
    if (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)) return true;
  }
  return false;
}

/**
 * Throws a WorkerSettingsRefusal unless `dir` (a run's or a validation's outputDir, which may not
 * exist yet) lies inside one of the folders this worker may write into.
 */
export async function checkOutputDir(dir: string, allowedDirs: string[]): Promise<void> {
  if (isS3Location(dir) ? insideS3(normalS3(dir), allowedDirs) : await insideAny(await realpathOfExisting(resolve(dir)), allowedDirs)) return;
  throw new WorkerSettingsRefusal(
    `outputDir ${dir} is outside the folders this worker writes into (${allowedDirs.join(', ') || 'none'}). ` +
      `To allow it, add it to ${OUTPUT_DIRS_VAR} in the worker's environment`,
  );
}

/** Whether an S3 location lies under an allowed `s3://bucket/prefix` (same bucket; the prefix ends at a `/`). */
function insideS3(location: string, allowedDirs: string[]): boolean {
  const { bucket, key } = parseS3Location(location);
  return allowedDirs.some((dir) => {
    if (!isS3Location(dir)) return false;
    const allowed = parseS3Location(dir);
    return allowed.bucket === bucket && (allowed.key === '' || key === allowed.key || key.startsWith(`${allowed.key}/`));
  });
}

/** `s3://bucket/a/../b/` → `s3://bucket/b`: `..` and `.` segments and repeated or trailing slashes resolved. */
function normalS3(location: string): string {
  const { bucket, key } = parseS3Location(location);
  return s3Location(bucket, posix.normalize(`/${key}`).slice(1).replace(/\/+$/, ''));
}

/** The real path of the longest existing prefix of `path`, with the rest appended (symlinks resolved where they exist). */
async function realpathOfExisting(path: string): Promise<string> {
  const rest: string[] = [];
  for (let p = path; ; ) {
    try {
      return [await realpath(p), ...rest.reverse()].join(sep);
    } catch {
      const parent = resolve(p, '..');
      if (parent === p) return path;
      rest.push(p.slice(parent.length).replace(/^[\\/]+/, ''));
      p = parent;
    }
  }
}

function refusal(what: string, path: string, allowedDirs: string[]): string {
  return (
    `${what} ${path} is outside the folders this worker reads rollouts from (${allowedDirs.join(', ') || 'none'}). ` +
    `To allow it, add its folder to ${ROLLOUT_DIRS_VAR} in the worker's environment`
  );
}
