import { deflateSync } from 'node:zlib';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { buildCodecServer } from '../../src/temporal/codec-server';
import { ZLIB_ENCODING, ZlibPayloadCodec } from '../../src/temporal/payload-compression';

const UI = 'http://127.0.0.1:8233';
const json = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const text = (p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8');
const large = { requests: Array.from({ length: 800 }, (_, i) => ({ key: `k-${i}`, text: `The supplier's liability is capped at the fees paid (${i}). ` })) };

describe('the codec server (Temporal remote codec protocol over the payload compression)', () => {
  it('decodes compressed payloads to the JSON they hold, under any path prefix, and passes plain ones through', async () => {
    const app = await buildCodecServer({ origins: [UI] });
    const [compressed] = await new ZlibPayloadCodec().encode([defaultPayloadConverter.toPayload(large)]);
    const plain = defaultPayloadConverter.toPayload({ step: 3 });
    expect(Buffer.from(compressed!.metadata!.encoding!).toString()).toBe(ZLIB_ENCODING);
    for (const url of ['/decode', '/default/decode', '/codec/ns/decode/']) {
      const res = await app.inject({ method: 'POST', url, headers: { 'x-namespace': 'default' }, payload: { payloads: [json(compressed!), json(plain)] } });
      expect(res.statusCode, url).toBe(200);
      const [a, b] = res.json().payloads;
      expect(Buffer.from(a.metadata.encoding, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(text(a))).toEqual(large);
      expect(b).toEqual(json(plain));
    }
    await app.close();
  });

  it('encodes as the clients do, so a payload the Web UI sends (a signal, an Update) reaches the run readable', async () => {
    const app = await buildCodecServer();
    const original = json(defaultPayloadConverter.toPayload(large));
    const encoded = (await app.inject({ method: 'POST', url: '/encode', payload: { payloads: [original] } })).json().payloads;
    expect(Buffer.from(encoded[0].metadata.encoding, 'base64').toString()).toBe(ZLIB_ENCODING);
    const decoded = (await app.inject({ method: 'POST', url: '/decode', payload: { payloads: encoded } })).json().payloads;
    expect(decoded).toEqual([original]);
    await app.close();
  });

  it('lets browsers call only from the Web UI origins it was given', async () => {
    const app = await buildCodecServer({ origins: [UI] });
    const preflight = (origin: string) =>
      app.inject({ method: 'OPTIONS', url: '/decode', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const allowed = await preflight(UI);
    expect(allowed.headers['access-control-allow-origin']).toBe(UI);
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('x-namespace');
    const other = await preflight('http://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    await app.close();
  });

  it('names what is wrong: a body without payloads, an unknown operation, a payload that does not inflate, a zip bomb', async () => {
    const app = await buildCodecServer({ codec: new ZlibPayloadCodec(undefined, 1024 * 1024) });
    const noPayloads = await app.inject({ method: 'POST', url: '/decode', payload: { items: [] } });
    expect(noPayloads.statusCode).toBe(422);
    expect(noPayloads.json().message).toContain('payloads');
    expect((await app.inject({ method: 'POST', url: '/transcode', payload: { payloads: [] } })).statusCode).toBe(404);

    const zlib = (data: Buffer) => ({ metadata: { encoding: Buffer.from(ZLIB_ENCODING).toString('base64') }, data: data.toString('base64') });
    const garbage = await app.inject({ method: 'POST', url: '/decode', payload: { payloads: [json(defaultPayloadConverter.toPayload(1)), zlib(Buffer.from('not zlib'))] } });
    expect(garbage.statusCode).toBe(422);
    expect(garbage.json()).toMatchObject({ error: 'undecodable_payload', message: expect.stringContaining('payloads[1]') });

    // 16 MiB of zeros as a payload's data deflates to ~16 KB; the limit here is 1 MiB.
    const bomb = deflateSync(proto.temporal.api.common.v1.Payload.encode({ metadata: {}, data: Buffer.alloc(16 * 1024 * 1024) }).finish());
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await app.inject({ method: 'POST', url: '/decode', payload: { payloads: [zlib(bomb)] } });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toContain('payloads[0]');
    await app.close();
  });
});
