import cors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { ZlibPayloadCodec } from './payload-compression';
import { rootMessage } from './client-errors';

/** Where the Web UI is served by default: the dev server (`npm run server`, 8233) and docker-compose.yml (8080). */
export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233', 'http://localhost:8080', 'http://127.0.0.1:8080'];

/**
 * Largest payload a decode may produce. Every real one is far below (Temporal refuses payloads
 * over 2 MB, and rollout text deflates ~5×); a request that inflates past it is a zip bomb.
 */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

export interface CodecServerOptions {
  /** Browser origins allowed to call (the Web UI's); tools that are not browsers need none. */
  origins?: string[];
  codec?: PayloadCodec;
  bodyLimit?: number;
  logger?: boolean;
}

/** A payload as the codec protocol carries it: proto3 JSON, so every bytes field is base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const payloadsBody = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string' } },
          data: { type: 'string' },
        },
      },
    },
  },
} as const;

/**
 * Temporal's remote codec protocol (`POST …/encode`, `POST …/decode`, payloads as proto3 JSON)
 * over Arbiter's payload codec, so the Web UI (`--ui-codec-endpoint`, or its "Codec Server"
 * setting) and the Temporal CLI (`--codec-endpoint`) show compressed payloads as the JSON they
 * hold. Only the last segment of the path counts, as the protocol asks, so it may be mounted
 * under any prefix (one per namespace, say); the `X-Namespace` header is not needed: one codec
 * serves every namespace.
 *
 * The codec only compresses: a decode returns nothing a caller could not inflate from what it
 * sent. Browsers are still held to `origins`, so that no other page uses it.
 */
export async function buildCodecServer(options: CodecServerOptions = {}): Promise<FastifyInstance> {
  const codec = options.codec ?? new ZlibPayloadCodec(undefined, MAX_DECODED_BYTES);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: false } },
  });
  await app.register(cors, {
    origin: options.origins ?? DEFAULT_UI_ORIGINS,
    methods: ['POST'],
    // What the Web UI and the CLI send; Authorization for a UI set to pass its user's token.
    allowedHeaders: ['content-type', 'x-namespace', 'authorization'],
    credentials: true,
    maxAge: 600,
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _request, reply) => {
    if (err instanceof PayloadError) return reply.status(422).send({ error: 'undecodable_payload', message: err.message });
    if (err.validation) return reply.status(422).send({ error: 'invalid_request', message: `body: ${err.message}` });
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    return reply.status(status).send({ error: status === 500 ? 'internal' : 'bad_request', message: err.message });
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.post<{ Params: { '*': string }; Body: { payloads: JsonPayload[] } }>('/*', { schema: { body: payloadsBody } }, async (request, reply) => {
    const operation = request.params['*'].split('/').filter(Boolean).pop();
    if (operation !== 'encode' && operation !== 'decode') {
      return reply.status(404).send({ error: 'not_found', message: `POST …/encode or …/decode, not /${request.params['*']}` });
    }
    const payloads = request.body.payloads.map(fromJson);
    const out = operation === 'encode' ? await codec.encode(payloads) : await decodeEach(codec, payloads);
    return { payloads: out.map(toJson) };
  });
  return app;
}

class PayloadError extends Error {}

/** One payload at a time, so a bad one is named by its index. */
async function decodeEach(codec: PayloadCodec, payloads: Payload[]): Promise<Payload[]> {
  const out: Payload[] = [];
  for (const [i, payload] of payloads.entries()) {
    try {
      out.push(...(await codec.decode([payload])));
    } catch (err) {
      throw new PayloadError(`payloads[${i}] cannot be decoded: ${rootMessage(err)}`);
    }
  }
  return out;
}

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}
