import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store';
import { joinLocation } from '../../src/storage/location';
import { S3Store } from '../../src/storage/s3-store';
import { s3ClientSettings, storeFor } from '../../src/storage/stores';
import type { Store } from '../../src/storage/store';
import { useS3Server } from '../helpers/s3-server';

const s3 = useS3Server();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arbiter-store-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
const kinds: Array<[string, () => { store: Store; root: string }]> = [
  ['filesystem', () => ({ store: new FileStore(), root: join(dir, `t${++n}`) })],
  ['S3', () => ({ store: storeFor(s3().location(`t${++n}`)), root: s3().location(`t${n}`) })],
];

describe.each(kinds)('the %s store', (_kind, make) => {
  it('reads what it wrote, whole, and nothing where nothing was written', async () => {
    const { store, root } = make();
    const file = joinLocation(root, 'a', 'b.json');
    expect(await store.readText(file)).toBeUndefined();
    expect(await store.stat(file)).toBeUndefined();
    await store.write(file, 'first\n');
    await store.write(file, 'second, longer\n');
    expect(await store.readText(file)).toBe('second, longer\n');
    expect((await store.stat(file))?.size).toBe(15);
  });

  it('lets exactly one of many racing creates win, and keeps the winner whole', async () => {
    const { store, root } = make();
    const file = joinLocation(root, 'owner.json');
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => store.create(file, `claimant ${i}\n`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.readText(file)).toBe(`claimant ${results.indexOf(true)}\n`);
    expect(await store.create(file, 'late\n')).toBe(false);
    expect(await store.createMany([{ path: file, data: 'x' }, { path: joinLocation(root, 'other'), data: 'y' }])).toEqual([false, true]);
  });

  it('loses no line of concurrent appenders', async () => {
    const { store, root } = make();
    const file = joinLocation(root, 'manifest.jsonl');
    await Promise.all(
      Array.from({ length: 3 }, async (_, writer) => {
        await Promise.all(Array.from({ length: 6 }, (_, i) => store.append(file, `${writer}:${i}\n`)));
      }),
    );
    const lines = (await store.readText(file))!.split('\n').filter(Boolean);
    expect(lines).toHaveLength(18);
    expect(new Set(lines).size).toBe(18);
  }, 60_000);

  it('streams lines and byte ranges, reporting invalid UTF-8 by line number', async () => {
    const { store, root } = make();
    const file = joinLocation(root, 'rollouts.jsonl');
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    await store.write(file, Buffer.concat([Buffer.from('{"a":1}\n{"b":2}\n'), bad, Buffer.from('\n{"c":3}')]));
    const all = [];
    for await (const line of store.readLines(file)) all.push(line);
    expect(all.map((l) => ('text' in l ? l.text : l.error))).toEqual(['{"a":1}', '{"b":2}', 'invalid-utf8', '{"c":3}']);
    const second = [];
    for await (const line of store.readLines(file, { start: 8, end: 15 })) second.push(line);
    expect(second).toEqual([{ lineNumber: 1, text: '{"b":2}', byteLength: 7 }]);
    await expect(async () => {
      for await (const _ of store.readLines(joinLocation(root, 'missing.jsonl'))) void _;
    }).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists a folder one level deep and removes a tree', async () => {
    const { store, root } = make();
    await store.writeMany([
      { path: joinLocation(root, 'run', 'manifest.jsonl'), data: '' },
      { path: joinLocation(root, 'run', 'steps', '000001.rewards.jsonl'), data: '{}\n' },
      { path: joinLocation(root, 'run', 'work', '000002', 'chunks.json'), data: '[]' },
    ]);
    expect(await store.list(joinLocation(root, 'run'))).toEqual(['manifest.jsonl', 'steps', 'work']);
    expect(await store.list(joinLocation(root, 'nothing'))).toEqual([]);
    await store.removeTree(joinLocation(root, 'run', 'work'));
    expect(await store.list(joinLocation(root, 'run'))).toEqual(['manifest.jsonl', 'steps']);
    await store.remove(joinLocation(root, 'run', 'manifest.jsonl'));
    expect(await store.readText(joinLocation(root, 'run', 'manifest.jsonl'))).toBeUndefined();
  });

  it('shows a JSON-lines file only once it is committed, and nothing after an abort', async () => {
    const { store, root } = make();
    const file = joinLocation(root, 'steps', '000001.rewards.jsonl');
    const writer = store.jsonlWriter(file);
    expect(await writer.write({ id: 'a' })).toBe(0);
    expect(await writer.write({ id: 'b' })).toBe(11);
    expect(await store.readText(file)).toBeUndefined();
    await writer.commit();
    expect(await store.readText(file)).toBe('{"id":"a"}\n{"id":"b"}\n');
    // Aborted at once, while a writer's temp file may still be opening: nothing may be left (one
    // writer, aborted so, left its temp file once in CI: the removal had raced the open).
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const dropped = store.jsonlWriter(joinLocation(root, 'steps', `dropped-${i}.jsonl`));
        await dropped.write({ id: 'c' });
        await dropped.abort();
      }),
    );
    expect(await store.list(joinLocation(root, 'steps'))).toEqual(['000001.rewards.jsonl']);
  });
});

describe('the S3 store', () => {
  it('does not append twice when a conditional PUT landed but its answer was lost', async () => {
    // The first append's answer is dropped after the server applied it: the SDK retries the PUT,
    // which now fails its If-Match, and the store must see that its own line is already there.
    const inner = new NodeHttpHandler();
    let dropNext = false;
    const client = new S3Client({
      ...s3ClientSettings(process.env),
      requestHandler: {
        handle: async (...[request, options]: Parameters<NodeHttpHandler['handle']>) => {
          const answer = await inner.handle(request, options);
          if (dropNext && request.method === 'PUT') {
            dropNext = false;
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          }
          return answer;
        },
      },
    });
    const store = new S3Store(client);
    const file = s3().location('lost-answer/manifest.jsonl');
    await store.append(file, 'step 1\n');
    dropNext = true;
    await store.append(file, 'step 2\n');
    expect(dropNext).toBe(false);
    expect(await store.readText(file)).toBe('step 1\nstep 2\n');
  });

  it('keeps what it wrote across a restart of the server', async () => {
    const store = storeFor(s3().location('restart/x'));
    await store.write(s3().location('restart/owner.json'), '{"workflowId":"w"}\n');
    await s3().restart();
    expect(await store.readText(s3().location('restart/owner.json'))).toBe('{"workflowId":"w"}\n');
  });

  it('takes path-style addressing and a default region only for a custom endpoint', () => {
    expect(s3ClientSettings({})).toEqual({ forcePathStyle: false });
    expect(s3ClientSettings({ AWS_ENDPOINT_URL_S3: 'http://x:9000' })).toEqual({
      forcePathStyle: true,
      region: 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    expect(s3ClientSettings({ AWS_ENDPOINT_URL_S3: 'http://x', AWS_REGION: 'eu-west-1', ARBITER_S3_FORCE_PATH_STYLE: '0' })).toMatchObject({
      forcePathStyle: false,
    });
  });
});
