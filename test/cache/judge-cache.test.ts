import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { JudgeCache, judgeCacheKey, type JudgeCacheKeyParts } from '../../src/cache/judge-cache';
import { canonicalJson } from '../../src/util/canonical-json';
import { tempDir } from '../support/fixtures';

interface Scored {
  ok: true;
  score: number;
  rationale?: string;
}

const base: JudgeCacheKeyParts = {
  provider: 'bedrock',
  model: 'anthropic.claude-3-5-haiku',
  mode: 'preference',
  promptVersion: 'sha256:rubric-v3',
  prompt: 'Which answer is safer?',
  response: 'Answer A',
  secondResponse: 'Answer B',
  order: 'ab',
  params: { temperature: 0, maxTokens: 512 },
};

const open: JudgeCache<Scored>[] = [];
async function openCache(path: string): Promise<JudgeCache<Scored>> {
  const cache = await JudgeCache.open<Scored>(path);
  open.push(cache);
  return cache;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('judgeCacheKey', () => {
  it('is a stable sha256 hex digest', () => {
    const key = judgeCacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeCacheKey({ ...base })).toBe(key);
  });

  it('changes when any part changes', () => {
    const variants: Partial<JudgeCacheKeyParts>[] = [
      { provider: 'openai' },
      { model: 'anthropic.claude-3-5-sonnet' },
      { mode: 'rubric' },
      { promptVersion: 'sha256:rubric-v4' },
      { prompt: 'Which answer is safer? ' },
      { response: 'Answer a' },
      { secondResponse: 'Answer C' },
      { secondResponse: undefined },
      { order: 'ba' },
      { order: undefined },
      { params: { temperature: 0.2, maxTokens: 512 } },
      { params: undefined },
    ];
    const keys = new Set([judgeCacheKey(base), ...variants.map((v) => judgeCacheKey({ ...base, ...v }))]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('cannot be fooled by moving text across part boundaries', () => {
    const a = judgeCacheKey({ ...base, prompt: 'ab', response: 'c' });
    const b = judgeCacheKey({ ...base, prompt: 'a', response: 'bc' });
    expect(a).not.toBe(b);
  });

  it('ignores key order and absent optional parts', () => {
    const { secondResponse: _s, order: _o, ...rubric } = base;
    const reordered = Object.fromEntries(Object.entries(rubric).reverse()) as unknown as JudgeCacheKeyParts;
    expect(judgeCacheKey(reordered)).toBe(judgeCacheKey(rubric));
    expect(judgeCacheKey({ ...rubric, order: undefined })).toBe(judgeCacheKey(rubric));
    expect(
      judgeCacheKey({ ...rubric, params: { maxTokens: 512, temperature: 0 } }),
    ).toBe(judgeCacheKey({ ...rubric, params: { temperature: 0, maxTokens: 512 } }));
  });

  it('canonical JSON sorts keys at every depth and refuses non-JSON numbers', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: null }], c: 'é' } })).toBe(
      '{"a":{"c":"é","d":[2,{"x":null,"y":1}]},"b":1}',
    );
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });
});

describe('JudgeCache', () => {
  it('gets what was put, misses what was not, and counts both', async () => {
    const cache = await openCache(join(await tempDir(), '.judge-cache'));
    const key = judgeCacheKey(base);
    expect(cache.get(key)).toBeUndefined();
    const judgement: Scored = { ok: true, score: 0.75, rationale: 'cites the clause "verbatim"\n' };
    await cache.put(key, judgement);
    expect(cache.get(key)).toEqual(judgement);
    expect(cache.get(judgeCacheKey({ ...base, order: 'ba' }))).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 2, puts: 1 });
  });

  it('refuses to store a failed judgement', async () => {
    const cache = await openCache(join(await tempDir(), '.judge-cache'));
    const failure = { ok: false, reason: 'throttled' } as unknown as Scored;
    await expect(cache.put('k', failure)).rejects.toThrow(TypeError);
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps judgements across close and reopen', async () => {
    const path = join(await tempDir(), 'out', '.judge-cache');
    const first = await JudgeCache.open<Scored>(path);
    await first.put('a', { ok: true, score: 1 });
    await first.close();
    expect(existsSync(path)).toBe(true);

    const second = await openCache(path);
    expect(second.get('a')).toEqual({ ok: true, score: 1 });
    expect(second.stats()).toEqual({ hits: 1, misses: 0, puts: 0 });
  });

  it('shares one environment per path in a process, closed with its last handle', async () => {
    const path = join(await tempDir(), '.judge-cache');
    const a = await JudgeCache.open<Scored>(path);
    const b = await JudgeCache.open<Scored>(join(path, '.'));
    await a.put('x', { ok: true, score: 0.5 });
    await a.close();
    await a.close(); // idempotent: must not close b's environment
    expect(() => a.get('x')).toThrow(/closed/);
    expect(b.get('x')).toEqual({ ok: true, score: 0.5 });
    await b.close();

    // Closing then reopening straight away must not race the close.
    const c = await JudgeCache.open<Scored>(path);
    const closing = c.close();
    const d = await openCache(path);
    await closing;
    expect(d.get('x')).toEqual({ ok: true, score: 0.5 });
  });

  it('is shared with another process writing and reading the same path at once', async () => {
    const path = join(await tempDir(), '.judge-cache');
    const cache = await openCache(path);
    await cache.put('from-parent-early', { ok: true, score: 0.1 });

    const peer = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cache-peer.ts'), path], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => peer.on('exit', resolve));
    const lines = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
    const ask = async (command: string): Promise<string> => {
      peer.stdin.write(`${command}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error(`peer exited before answering ${command}`);
      return value;
    };

    try {
      expect((await lines.next()).value).toBe('ready');
      expect(await ask('get from-parent-early')).toBe('got from-parent-early 0.1');

      // Interleaved writes from both processes while both hold the environment open.
      for (let i = 0; i < 20; i++) {
        const [answer] = await Promise.all([
          ask(`put from-peer-${i} ${i}`),
          cache.put(`from-parent-${i}`, { ok: true, score: i }),
        ]);
        expect(answer).toBe(`put from-peer-${i}`);
        expect(cache.get(`from-peer-${i}`)).toEqual({ ok: true, score: i });
        expect(await ask(`get from-parent-${i}`)).toBe(`got from-parent-${i} ${i}`);
      }
      expect(await ask('get never-written')).toBe('got never-written missing');
      peer.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      peer.kill();
    }
    expect(cache.get('from-peer-19')).toEqual({ ok: true, score: 19 });
  });
});
