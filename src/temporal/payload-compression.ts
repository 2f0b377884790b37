import { deflateSync, inflateSync, constants } from 'node:zlib';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/** The encoding of a compressed payload: the Go SDK's `NewZlibCodec` format, so its tools read ours. */
export const ZLIB_ENCODING = 'binary/zlib';

/**
 * Payloads this large or larger are stored compressed. The large ones are a service's rounds of
 * trainer requests (up to 480 KiB of rollout text per Update) and their answers; everything
 * smaller (configs, progress, queries, most results) stays plain JSON that the Web UI and
 * `temporal workflow show` display as it is.
 */
export const COMPRESS_FROM_BYTES = 32 * 1024;

const ENCODING_BYTES = new TextEncoder().encode(ZLIB_ENCODING);

/**
 * Compresses large payloads with zlib, as the Go SDK's zlib codec does: the whole payload
 * (metadata and data) marshalled as protobuf, deflated, under `encoding: binary/zlib`; kept
 * plain when compressing would not make it smaller. Decoding leaves any other payload as it is,
 * so histories written before (or by a client without the codec) read the same.
 *
 * Why: every byte of a payload is copied and persisted several times on its way from the service
 * through the Temporal server to the workflow, and a run's history grows by each Update's
 * requests until it must continue as new. Rollout text deflates about four to five times
 * (`npm run bench:serve`: the server's CPU per request halved; docs/performance.md).
 * Level 1: the fastest, ~1.3 ms for 250 KB of requests, most of the gain.
 */
export class ZlibPayloadCodec implements PayloadCodec {
  /** `maxDecodedBytes`: for payloads from outside (the codec server), a zip bomb's limit. */
  constructor(
    private readonly minBytes = COMPRESS_FROM_BYTES,
    private readonly maxDecodedBytes?: number,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if ((payload.data?.length ?? 0) < this.minBytes) return payload;
      const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      const data = deflateSync(plain, { level: constants.Z_BEST_SPEED });
      return data.length < plain.length ? { metadata: { encoding: ENCODING_BYTES }, data } : payload;
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => decompressed(payload, this.maxDecodedBytes));
  }
}

/** The payload as it was before compression (any other payload as it is): for code that reads raw histories. */
export function decompressed(payload: Payload, maxBytes?: number): Payload {
  if (!isCompressed(payload)) return payload;
  return proto.temporal.api.common.v1.Payload.decode(inflateSync(payload.data!, maxBytes ? { maxOutputLength: maxBytes } : {}));
}

export function isCompressed(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString('utf8') === ZLIB_ENCODING;
}

/**
 * The data converter of every Arbiter client and worker (`arbiter serve`, the CLI, the demo, the
 * worker, tests and benchmarks): each side must read what the other compressed.
 */
export const arbiterDataConverter: DataConverter = { payloadCodecs: [new ZlibPayloadCodec()] };
