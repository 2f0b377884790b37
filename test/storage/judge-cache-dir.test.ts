import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeCacheDir } from '../../src/judges/build-judge';

describe('where a run keeps its judge cache', () => {
  it('beside the runs in a local outputDir', () => {
    expect(judgeCacheDir('/srv/runs', {})).toBe('/srv/runs/.judge-cache');
  });

  it('on the worker machine for an outputDir in S3 (LMDB needs a local disk), never outside the cache folder', () => {
    expect(judgeCacheDir('s3://team/runs', {})).toBe(join(tmpdir(), 'arbiter-judge-cache', 'team', 'runs'));
    expect(judgeCacheDir('s3://team/runs/', { ARBITER_JUDGE_CACHE_DIR: '/var/cache/arbiter' })).toBe('/var/cache/arbiter/team/runs');
    expect(judgeCacheDir('s3://team/../../etc', { ARBITER_JUDGE_CACHE_DIR: '/var/cache/arbiter' })).toBe('/var/cache/arbiter/team/etc');
  });
});
