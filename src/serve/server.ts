import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { RunConfigInput } from '../config/run-config';
import { configQuery } from '../../workflows/definitions';
import { HttpError, httpErrorOf } from './http-error';
import { REVIEW_PAGE_PATH, registerReviewRoutes } from './review-routes';
import { readRewardsFile } from '../contract/rewards-file';
import { DEFAULT_REQUEST_TIMING, RunRequests } from './run-requests';
import { nativeRoutes } from './routes/native';
import { novaRoutes } from './routes/nova';
import { openRlhfRoutes } from './routes/openrlhf';
import type { ServeContext } from './serve-context';
import { DEFAULT_CHAT_TEMPLATE, type ChatTemplateSettings } from './chat-template';
import { stepSummaries } from './step-summaries';

/** How the service batches Updates and waits for answers. */
export type BatchingOptions = typeof DEFAULT_REQUEST_TIMING;
export const DEFAULT_BATCHING: BatchingOptions = DEFAULT_REQUEST_TIMING;

export interface ServeOptions {
  client: Client;
  taskQueue: string;
  /** Bearer token every /v1, /openrlhf, /nova and /review/api request must carry; none means no check (loopback only). */
  token?: string;
  /** Where batches over the inline limit are written (a folder the workers may read). */
  spillDir: string;
  /** Runs not started yet are started with this config on their first request. */
  runTemplate?: RunConfigInput;
  batching?: Partial<BatchingOptions>;
  /** Largest request body accepted, bytes. */
  bodyLimit?: number;
  /** How OpenRLHF's decoded text is read: its chat template and the special tokens to remove. */
  chatTemplate?: ChatTemplateSettings;
  logger?: boolean;
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;


/** The HTTP reward service: one Fastify app over a Temporal client. */
export function buildServer(options: ServeOptions): FastifyInstance & { batcher(runId: string): RunRequests } {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Schema errors name every field, not just the first.
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
  });
  const batching = { ...DEFAULT_BATCHING, ...options.batching };
  const batchers = new Map<string, RunRequests>();
  const batcher = (runId: string) => {
    let b = batchers.get(runId);
    if (!b) {
      const { client, taskQueue, spillDir, runTemplate } = options;
      batchers.set(runId, (b = new RunRequests(runId, { client, taskQueue, spillDir, runTemplate, ...batching, readRewards: serviceReadsRewards })));
    }
    return b;
  };
  const fallbacks = new Map<string, Promise<number>>();
  /** The number a shape that needs one gives an excluded sample: the run's neutral fallback reward. */
  const fallbackOf = (runId: string) => {
    let f = fallbacks.get(runId);
    if (!f) {
      f = options.client.workflow
        .getHandle(runId)
        .query(configQuery)
        .then((c) => c.fallback.neutralValue ?? (c.rewards.minReward + c.rewards.maxReward) / 2);
      f.catch(() => fallbacks.delete(runId));
      fallbacks.set(runId, f);
    }
    return f;
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown; validationContext?: string }, request, reply) => {
    if (err instanceof HttpError) return reply.status(err.status).send({ error: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
    if (err.validation) {
      return reply.status(422).send({ error: 'invalid_request', message: `${err.validationContext ?? 'body'}: ${err.message}` });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: 'body_too_large', message: `request body over ${app.initialConfig.bodyLimit} bytes: split the batch` });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      return reply.status(400).send({ error: 'malformed_json', message: `request body is not valid JSON: ${err.message}` });
    }
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    const mapped = httpErrorOf(err, (request.params as { runId?: string })?.runId ?? '');
    if (mapped.status >= 500) request.log.error(err);
    return reply.status(mapped.status).send({ error: mapped.code, message: mapped.message });
  });

  // Trainers trust whatever rewards come back: every route but health and the review page's
  // empty shell needs the token when one is set (the page asks for it and sends it to its API).
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Without a token only this machine may call, and a web page whose name was rebound to
    // 127.0.0.1 (DNS rebinding) still sends its own name as Host: refused.
    if (!options.token && !isLoopbackHostHeader(request.headers.host)) {
      throw new HttpError(403, 'host_not_allowed', `Host ${JSON.stringify(request.headers.host ?? '')} is not this machine's loopback name: without a token only localhost, 127.0.0.1 and [::1] are served`);
    }
    if (!options.token || request.url === '/healthz' || request.url === '/readyz') return;
    if (request.method === 'GET' && request.routeOptions.url === REVIEW_PAGE_PATH) return;
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!given) throw new HttpError(401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
    const a = Buffer.from(given);
    const b = Buffer.from(options.token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(401, 'unauthorized', 'wrong bearer token');
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await options.client.connection.workflowService.getSystemInfo({});
      return { ok: true, temporal: 'reachable' };
    } catch (err) {
      const e = httpErrorOf(err, '');
      return reply.status(503).send({ ok: false, error: 'temporal_unreachable', message: e.message });
    }
  });

  // Before Fastify waits for the requests in flight: callers waiting for a run's answer hear a
  // retryable 503 at once, so a restart takes moments, not the answer timeout (170 s by default).
  app.addHook('preClose', async () => {
    for (const b of batchers.values()) b.close();
  });

  registerReviewRoutes(app, options.client);

  /** The step's summary, if the run still holds it (its last 20 steps). */
  const stepSummary = stepSummaries(options.client);

  // Each trainer shape is a plugin over the same context: the run's answers, never the service's.
  const ctx: ServeContext = {
    client: options.client,
    taskQueue: options.taskQueue,
    runs: batcher,
    fallbackOf,
    stepSummary,
    chatTemplate: options.chatTemplate ?? DEFAULT_CHAT_TEMPLATE,
  };
  app.register(nativeRoutes, ctx);
  app.register(openRlhfRoutes, ctx);
  app.register(novaRoutes, ctx);

  return Object.assign(app, { batcher });
}

/** A rewards file as this service sees the run folder: undefined when it cannot read it here (another machine, no rights). */
function serviceReadsRewards(file: string) {
  return readRewardsFile(file).catch((err: unknown) => {
    if (err instanceof SyntaxError) throw err;
    return undefined;
  });
}

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

