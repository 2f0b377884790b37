import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const STATS = fileURLToPath(new URL('../../src/stats', import.meta.url));
const WORKFLOWS = fileURLToPath(new URL('../../workflows', import.meta.url));

/** Everything a file imports (static imports and re-exports). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)].map((m) => m[1]!);
}

/** The source without comments, so a doc comment may name what the code must not use. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('src/stats is workflow-safe', () => {
  it('imports only itself, src/util/seeded-random and simple-statistics, and uses no clock or unseeded randomness', async () => {
    const files = (await readdir(STATS)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) {
      const source = await readFile(join(STATS, file), 'utf8');
      for (const spec of importsOf(source)) {
        expect(spec.startsWith('./') || spec === '../util/seeded-random' || spec === 'simple-statistics', `${file} imports ${spec}`).toBe(true);
      }
      expect(code(source), `${file} uses Date, Math.random, process or require`).not.toMatch(/\bDate\b|Math\.random|\bprocess\.|\brequire\(/);
    }
  });

  it('is imported by workflow code one file at a time, never through index.ts', async () => {
    const files = (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.ts'));
    const imports = (await Promise.all(files.map(async (f) => importsOf(await readFile(join(WORKFLOWS, f), 'utf8'))))).flat();
    const stats = imports.filter((spec) => spec.includes('src/stats'));
    expect(stats).toContain('../src/stats/kappa');
    expect(stats.filter((spec) => /src\/stats(\/index)?$/.test(spec))).toEqual([]);
    // What workflows/agreement.ts brings into the sandbox: kappa.ts and its one helper, no library.
    expect(importsOf(await readFile(join(STATS, 'kappa.ts'), 'utf8'))).toEqual(['./paired']);
    expect(importsOf(await readFile(join(STATS, 'paired.ts'), 'utf8'))).toEqual([]);
  });
});
