import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { COMPRESS_FROM_BYTES, decompressed, isCompressed, ZlibPayloadCodec } from '../../src/temporal/payload-compression';
import { withServedRuns } from '../helpers/serve';

const Proto = proto.temporal.api.common.v1.Payload;
const codec = new ZlibPayloadCodec();
const bytes = (p: Payload) => Buffer.from(Proto.encode(p).finish());

/**
 * A payload the Temporal Go SDK (go.temporal.io/sdk v1.51.0) compressed with its own
 * converter.NewZlibCodec, and the same payload plain: written by fixtures/go-sdk-zlib-payload.go.txt.
 */
async function goSdkFixture(): Promise<{ plain: Payload; zlib: Payload }> {
  const { plain, zlib } = JSON.parse(await readFile(new URL('./fixtures/go-sdk-zlib-payload.json', import.meta.url), 'utf8')) as Record<string, string>;
  return { plain: Proto.decode(Buffer.from(plain!, 'base64')), zlib: Proto.decode(Buffer.from(zlib!, 'base64')) };
}

describe('payload compression', () => {
  it('reads payloads the Go SDK compressed, and writes them in the same format', async () => {
    const go = await goSdkFixture();
    expect(isCompressed(go.zlib)).toBe(true);
    const [read] = await codec.decode([go.zlib]);
    expect(bytes(read!)).toEqual(bytes(go.plain));

    const [ours] = await codec.encode([go.plain]);
    expect(Object.keys(ours!.metadata!)).toEqual(['encoding']);
    expect(Buffer.from(ours!.metadata!.encoding!)).toEqual(Buffer.from(go.zlib.metadata!.encoding!));
    // The same format: the whole payload as protobuf, zlib-deflated (the level may differ).
    expect(Buffer.from(inflateSync(ours!.data!))).toEqual(bytes(go.plain));
    expect(ours!.data!.length).toBeLessThan(go.plain.data!.length / 10);
  });

  it('compresses only large payloads that shrink, and leaves every other payload as it is', async () => {
    const small = defaultPayloadConverter.toPayload({ step: 3, text: 'x'.repeat(COMPRESS_FROM_BYTES - 100) });
    const large = defaultPayloadConverter.toPayload({ requests: Array.from({ length: 400 }, (_, i) => ({ key: `h-${i}`, text: 'a clause on liability '.repeat(10) })) });
    const random = defaultPayloadConverter.toPayload(randomBytes(COMPRESS_FROM_BYTES * 2));
    const [s, l, r] = await codec.encode([small, large, random]);
    expect(s).toBe(small);
    expect(r).toBe(random);
    expect(isCompressed(l!)).toBe(true);
    expect(l!.data!.length).toBeLessThan(large.data!.length / 4);
    const decoded = await codec.decode([s!, l!, r!]);
    expect(decoded[0]).toBe(small);
    expect(decoded[2]).toBe(random);
    expect(defaultPayloadConverter.fromPayload(decoded[1]!)).toEqual(defaultPayloadConverter.fromPayload(large));
    expect(decompressed(large)).toBe(large);
  });

  it("stores a service's round of requests compressed in the run's history, and answers every request", async () => {
    await withServedRuns(async ({ svc, client }) => {
      const runId = `compressed-${Date.now()}`;
      // Forty callers at once: one round, one Update well over the size compressed.
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          svc.post(`/openrlhf/${runId}`, { query: [`Q${i} ` + `The supplier's liability is capped at the fees paid in the year before the claim. `.repeat(20) + `A${i}`], prompts: [`Q${i} `] }),
        ),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(typeof a.body.rewards[0]).toBe('number');
      }
      // The history as stored (the raw service, no data converter): the Updates' inputs.
      const { history } = await client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: runId } });
      const inputs = (history?.events ?? [])
        .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0])
        .filter((p): p is Payload => p != null);
      const compressed = inputs.filter((p) => isCompressed(p));
      expect(compressed.length).toBeGreaterThan(0);
      const requests = compressed.flatMap((p) => (defaultPayloadConverter.fromPayload(decompressed(p)) as { requests: unknown[] }).requests);
      expect(requests.length).toBeGreaterThan(COMPRESS_FROM_BYTES / 2000);
      // Every byte of a compressed Update is smaller in history than the requests it carries.
      for (const p of compressed) expect(p.data!.length * 3).toBeLessThan(bytes(decompressed(p)).length);
    });
  }, 120_000);
});
