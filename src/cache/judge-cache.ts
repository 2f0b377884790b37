import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json';
import { resolve } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

/** Everything that decides a judgement: change any of it and the cached one no longer applies. */
export interface JudgeCacheKeyParts {
  provider: string;
  model: string;
  mode: 'rubric' | 'preference';
  /** Hash of the rubric and prompt template (their version), so editing either misses. */
  promptVersion: string;
  prompt: string;
  response: string;
  /** Preference mode: the other response of the pair. */
  secondResponse?: string;
  /** Preference mode: which response was shown first; the swapped asks are separate judgements. */
  order?: 'ab' | 'ba';
  /** Anything else that changes the answer, e.g. temperature or max tokens. */
  params?: Record<string, string | number | boolean>;
}

// Bump when the key's recipe changes, so old entries are simply never hit again.
const KEY_VERSION = 'judge-cache/v1';

/** sha256 (hex) of a canonical JSON of the parts: key order and absent optionals do not matter. */
export function judgeCacheKey(parts: JudgeCacheKeyParts): string {
  return createHash('sha256').update(canonicalJson({ v: KEY_VERSION, ...parts })).digest('hex');
}

/** Only successful judgements are cached: a failure must be paid for again, not replayed. */
export interface CacheableJudgement {
  ok: true;
}

export interface JudgeCacheStats {
  hits: number;
  misses: number;
  puts: number;
}

interface SharedEnv {
  db: RootDatabase<unknown, string>;
  handles: number;
}

// LMDB must not open one environment twice in a process (its locks are per process), so
// every handle on a path shares one, closed when the last handle closes.
const envs = new Map<string, SharedEnv>();
const closing = new Map<string, Promise<void>>();

/**
 * Persistent judge cache (LMDB), so a re-run or a retried activity never pays twice for the
 * same judgement. Several processes may open the same path at once (LMDB's own locking):
 * a value put by one is visible to the others once its `put` has resolved.
 */
export class JudgeCache<V extends CacheableJudgement = CacheableJudgement> {
  private hits = 0;
  private misses = 0;
  private puts = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly env: SharedEnv,
  ) {}

  /** Opens (creating if needed) the cache directory at `path`, e.g. `<outputDir>/.judge-cache`. */
  static async open<V extends CacheableJudgement = CacheableJudgement>(path: string): Promise<JudgeCache<V>> {
    const key = resolve(path);
    await closing.get(key);
    let env = envs.get(key);
    if (!env) {
      // JSON, not the default msgpack: values round-trip exactly as the JSON they are, and
      // other tools can read them. A directory, never a bare file, whatever the name.
      env = { db: open<unknown, string>({ path: key, encoding: 'json', noSubdir: false }), handles: 0 };
      envs.set(key, env);
    }
    env.handles += 1;
    return new JudgeCache<V>(key, env);
  }

  /** Synchronous underneath (a memory-mapped read); sees other processes' committed puts. */
  get(key: string): V | undefined {
    this.assertOpen();
    const value = this.env.db.get(key) as V | undefined;
    if (value === undefined) this.misses += 1;
    else this.hits += 1;
    return value;
  }

  /** Resolves once the value is committed and flushed to disk, so a crash after it loses nothing. */
  async put(key: string, value: V): Promise<void> {
    this.assertOpen();
    if ((value as { ok?: unknown }).ok !== true) {
      throw new TypeError('JudgeCache stores successful judgements only (ok: true)');
    }
    await this.env.db.put(key, value);
    // put resolves at commit (visible to all processes); with LMDB's default overlapping
    // sync the fsync comes after, and `flushed` is when it is durable.
    await this.env.db.flushed;
    this.puts += 1;
  }

  stats(): JudgeCacheStats {
    return { hits: this.hits, misses: this.misses, puts: this.puts };
  }

  /** Idempotent. Closes the environment when the last handle on its path closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.env.handles -= 1;
    if (this.env.handles > 0) return;
    envs.delete(this.path);
    const done = this.env.db.close().finally(() => closing.delete(this.path));
    closing.set(this.path, done);
    await done;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`JudgeCache at ${this.path} is closed`);
  }
}
