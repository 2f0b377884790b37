import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures';
import { arbiter } from './run-cli';

const judge = {
  provider: 'bedrock',
  model: 'm',
  rubric: { criteria: [{ id: 'flags_risk', description: 'flags the risk' }] },
};

async function configWith(canaryLines: string[]): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'gold'));
  await writeFile(join(dir, 'gold', 'canaries.jsonl'), canaryLines.join('\n') + '\n');
  const file = join(dir, 'run.json');
  await writeFile(file, JSON.stringify({ steps: 1, rollouts: { type: 'updates' }, judge, canary: { file: 'gold/canaries.jsonl' } }));
  return file;
}

describe('arbiter config validate with a canary file', () => {
  it('accepts a good file, found relative to the config', async () => {
    const file = await configWith([JSON.stringify({ id: 'a', prompt: 'p', response: 'r', label: { criteria: { flags_risk: true } } })]);
    const { code, stderr } = await arbiter(['config', 'validate', file], {}, '/');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('names each bad line of the file and exits 2, before any run starts', async () => {
    const file = await configWith([
      JSON.stringify({ id: 'a', prompt: 'p', response: 'r', label: { pass: true } }),
      JSON.stringify({ id: 'b', prompt: 'p', response: 'r', label: { criteria: { cites: true } } }),
      '{oops',
    ]);
    const { code, stderr } = await arbiter(['config', 'validate', file], {}, '/');
    expect(code).toBe(2);
    expect(stderr).toContain('canaries.jsonl is not usable:');
    expect(stderr).toMatch(/^ {4}line 2: label\.criteria: "cites" not in the judge's rubric \(flags_risk\)$/m);
    expect(stderr).toMatch(/^ {4}line 3: broken JSON: /m);
  });
});
