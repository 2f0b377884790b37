import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLayout } from '../../src/contract/run-layout';
import { parseChunkIndex } from '../../src/contract/chunk-index';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { readLines } from '../../src/io/read-lines';
import { rollout, tempDir } from '../support/fixtures';

async function prepare(lines: (string | Buffer)[], chunkSize = 2, maxLineBytes?: number, maxChunks?: number) {
  const dir = await tempDir();
  const source = join(dir, 'step.jsonl');
  await writeFile(source, Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')]))));
  const layout = new RunLayout(join(dir, 'run'));
  const info = await prepareBatch({ source, layout, step: 1, chunkSize, maxLineBytes, maxChunks });
  return { info, layout };
}

const line = (id: string, extra = {}) => JSON.stringify({ ...rollout(id), ...extra });

describe('prepareBatch', () => {
  it('quarantines each bad line with its number and scores the rest', async () => {
    const { info, layout } = await prepare([
      line('a'),
      '{"id": "b", "prompt": ',
      JSON.stringify({ id: 'c', prompt: 'p' }),
      line('a'),
      '',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      line('d'),
      line('e', { response: '' }),
    ]);
    expect(info).toMatchObject({ lines: 7, valid: 3, quarantined: 4, chunkCount: 2 });
    const quarantine = (await readFile(layout.quarantine(1), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(quarantine.map((q) => q.line)).toEqual([2, 3, 4, 6]);
    expect(quarantine[0].error).toMatch(/broken JSON/);
    expect(quarantine[1].error).toMatch(/^response: /);
    expect(quarantine[2].error).toMatch(/duplicate id "a"/);
    expect(quarantine[3].error).toMatch(/invalid UTF-8/);
  });

  it('quarantines an oversized line without holding it', async () => {
    const { info, layout } = await prepare([line('a'), line('big', { response: 'x'.repeat(5000) }), line('b')], 10, 2000);
    expect(info).toMatchObject({ valid: 2, quarantined: 1 });
    const [q] = (await readFile(layout.quarantine(1), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(q.line).toBe(2);
    expect(q.error).toMatch(/exceeds the limit/);
    expect(q.preview.length).toBeLessThanOrEqual(200);
  });

  it('cuts chunks whose byte ranges hold exactly their rollouts', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `r${i}`);
    const { info, layout } = await prepare(ids.map((id) => line(id)), 3);
    expect(info.chunkCount).toBe(3);
    const chunks = parseChunkIndex(await readFile(layout.chunkIndex(1), 'utf8'));
    expect(chunks.map((c) => c[2])).toEqual([3, 3, 1]);
    const got: string[][] = [];
    for (const [start, end] of chunks) {
      const inChunk: string[] = [];
      for await (const l of readLines(layout.batch(1), { start, end })) if ('text' in l) inChunk.push(JSON.parse(l.text).id);
      got.push(inChunk);
    }
    expect(got).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
  });

  it('grows chunks so a big step needs at most maxChunks activities', async () => {
    const { info, layout } = await prepare(Array.from({ length: 10 }, (_, i) => line(`r${i}`)), 2, undefined, 3);
    expect(info.chunkCount).toBe(3);
    const chunks = parseChunkIndex(await readFile(layout.chunkIndex(1), 'utf8'));
    expect(chunks.map((c) => c[2])).toEqual([4, 4, 2]);
  });

  it('keeps a preference group whole in one chunk, wherever its lines are', async () => {
    const { layout } = await prepare(
      [line('a1', { group: 'a' }), line('b1', { group: 'b' }), line('a2', { group: 'a' }), line('b2', { group: 'b' }), line('a3', { group: 'a' })],
      1,
    );
    const info = await prepareBatch({ source: join(layout.runDir, '..', 'step.jsonl'), layout, step: 1, chunkSize: 1, keepGroupsTogether: true });
    expect(info.chunkCount).toBe(2);
    const chunks = parseChunkIndex(await readFile(layout.chunkIndex(1), 'utf8'));
    const groups: string[][] = [];
    for (const [start, end] of chunks) {
      const ids: string[] = [];
      for await (const l of readLines(layout.batch(1), { start, end })) if ('text' in l) ids.push(JSON.parse(l.text).id);
      groups.push(ids);
    }
    expect(groups).toEqual([['a1', 'a2', 'a3'], ['b1', 'b2']]);
  });

  it('for group caching, gathers a group but cuts one larger than a chunk into chunk-sized parts', async () => {
    const { layout } = await prepare(
      [line('a1', { group: 'a' }), line('b1', { group: 'b' }), line('a2', { group: 'a' }), line('a3', { group: 'a' }), line('b2', { group: 'b' }), line('a4', { group: 'a' }), line('a5', { group: 'a' })],
      1,
    );
    const info = await prepareBatch({ source: join(layout.runDir, '..', 'step.jsonl'), layout, step: 1, chunkSize: 2, keepGroupsTogether: true, cutLargeGroups: true });
    const chunks = parseChunkIndex(await readFile(layout.chunkIndex(1), 'utf8'));
    const parts: string[][] = [];
    for (const [start, end] of chunks) {
      const ids: string[] = [];
      for await (const l of readLines(layout.batch(1), { start, end })) if ('text' in l) ids.push(JSON.parse(l.text).id);
      parts.push(ids);
    }
    expect(parts).toEqual([['a1', 'a2'], ['a3', 'a4'], ['a5', 'b1', 'b2']]);
    expect(info.chunkCount).toBe(3);
  });

  it('gives the same files when run again, and no quarantine file when all is well', async () => {
    const { info, layout } = await prepare([line('a'), line('b')]);
    expect(info.quarantined).toBe(0);
    await expect(readFile(layout.quarantine(1))).rejects.toThrow(/ENOENT/);
    const first = await readFile(layout.batch(1), 'utf8');
    const again = await prepareBatch({ source: join(layout.runDir, '..', 'step.jsonl'), layout, step: 1, chunkSize: 2 });
    expect(again).toEqual(info);
    expect(await readFile(layout.batch(1), 'utf8')).toBe(first);
  });
});
