import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Rollout } from '../config/rollout';
import { RunConfigSchema, type RunConfigInput } from '../config/run-config';
import { describeZodIssues } from '../config/validation-error';
import { configQuery } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { HttpError, httpErrorOf } from './http-error';
import { REVIEW_PAGE_PATH, registerReviewRoutes } from './review-routes';
import { readRewardsFile } from './rewards-file';
import { DEFAULT_REQUEST_TIMING, RunRequests } from './run-requests';
import { novaAnswer, novaRollouts, openRlhfAnswer, openRlhfRollouts, requestKey, type NovaSample, type OpenRlhfRequest } from './wire-shapes';

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
  logger?: boolean;
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

const rolloutSchema = {
  type: 'object',
  required: ['id', 'prompt', 'response'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    prompt: { type: 'string' },
    response: { type: 'string' },
    reference: { type: 'string' },
    group: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/** The native routes' body: a batch of rollouts and an optional idempotency key. */
const rewardsBody = {
  type: 'object',
  required: ['rollouts'],
  properties: { rollouts: { type: 'array', minItems: 1, items: rolloutSchema }, requestId: { type: 'string', minLength: 1, maxLength: 200 } },
  additionalProperties: false,
} as const;

const runIdParam = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' } },
} as const;

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
      batchers.set(runId, (b = new RunRequests(runId, { client, taskQueue, spillDir, runTemplate, ...batching, readRewards: readRewardsFile })));
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

  registerReviewRoutes(app, options.client);

  // ---- native ----

  app.post<{ Body: RunConfigInput & { runId: string } }>(
    '/v1/runs',
    { schema: { body: { type: 'object', required: ['runId', 'steps', 'rollouts'], properties: { runId: runIdParam.properties.runId } } } },
    async (request, reply) => {
      const parsed = RunConfigSchema.safeParse(request.body);
      if (!parsed.success) throw new HttpError(422, 'invalid_run_config', `invalid run config: ${describeZodIssues(parsed.error).join('; ')}`, describeZodIssues(parsed.error));
      if (parsed.data.rollouts.type !== 'updates') {
        throw new HttpError(422, 'invalid_run_config', 'rollouts.type: a run fed by arbiter serve takes {"type": "updates"}');
      }
      const runId = request.body.runId;
      try {
        await options.client.workflow.start(rftRun, {
          workflowId: runId,
          taskQueue: options.taskQueue,
          args: [request.body],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: `run ${runId}, fed by arbiter serve`,
        });
        return reply.status(201).send({ runId, created: true });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Idempotent: the run exists (open or closed); say which.
        const description = await options.client.workflow.getHandle(runId).describe();
        return reply.status(200).send({ runId, created: false, status: description.status.name });
      }
    },
  );

  app.post<{ Params: { runId: string; step: string }; Body: { rollouts: Rollout[]; requestId?: string } }>(
    '/v1/runs/:runId/steps/:step/rewards',
    {
      schema: {
        params: { ...runIdParam, required: ['runId', 'step'], properties: { ...runIdParam.properties, step: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
        body: rewardsBody,
      },
    },
    async (request) => {
      const { runId } = request.params;
      const step = Number(request.params.step);
      const { rollouts } = request.body;
      uniqueIds(rollouts);
      // The step is the key: a resend of the same rollouts attaches, other rollouts are refused.
      const answer = await batcher(runId).rewards(`step:${step}`, rollouts, step);
      return { runId, step, rewards: answer.rewards, summary: await stepSummary(runId, step), replayed: answer.replayed };
    },
  );

  app.post<{ Params: { runId: string }; Body: { rollouts: Rollout[]; requestId?: string } }>(
    '/v1/runs/:runId/rewards',
    {
      schema: {
        params: runIdParam,
        body: rewardsBody,
      },
    },
    async (request) => {
      const { runId } = request.params;
      const { rollouts, requestId } = request.body;
      uniqueIds(rollouts);
      const key = requestKey(requestId ?? headerKey(request), 'native', rollouts);
      const answer = await batcher(runId).rewards(key, rollouts);
      return { runId, step: answer.step ?? null, rewards: answer.rewards, summary: answer.step === undefined ? null : await stepSummary(runId, answer.step), replayed: answer.replayed };
    },
  );

  // ---- OpenRLHF remote reward model ----

  app.post<{ Params: { runId: string }; Body: OpenRlhfRequest }>(
    '/openrlhf/:runId',
    {
      schema: {
        params: runIdParam,
        body: {
          type: 'object',
          required: ['query'],
          properties: {
            query: { type: 'array', minItems: 1, items: { type: 'string' } },
            prompts: { type: 'array', items: { type: 'string' } },
            labels: { type: 'array' },
          },
        },
      },
    },
    async (request) => {
      const { runId } = request.params;
      const body = request.body;
      for (const field of ['prompts', 'labels'] as const) {
        const list = body[field];
        if (list && list.length !== body.query.length) {
          throw new HttpError(422, 'invalid_request', `body/${field} has ${list.length} items for ${body.query.length} queries: one per query`);
        }
      }
      const key = requestKey(headerKey(request), 'openrlhf', body);
      // After the answer: a run started by this very request is there to ask.
      const answer = await batcher(runId).rewards(key, openRlhfRollouts(body));
      const fallback = await fallbackOf(runId);
      return openRlhfAnswer(answer.step, answer.rewards, fallback);
    },
  );

  // ---- Amazon Nova RFT reward Lambda ----

  app.post<{ Params: { runId: string }; Body: NovaSample[] }>(
    '/nova/:runId',
    {
      schema: {
        params: runIdParam,
        body: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['id', 'messages'],
            properties: {
              id: { type: 'string', minLength: 1 },
              messages: {
                type: 'array',
                minItems: 1,
                items: { type: 'object', required: ['role', 'content'], properties: { role: { type: 'string' } } },
              },
              reference_answer: {},
            },
          },
        },
      },
    },
    async (request) => {
      const { runId } = request.params;
      const samples = request.body;
      const key = requestKey(headerKey(request), 'nova', samples);
      const answer = await batcher(runId).rewards(key, novaRollouts(samples));
      const fallback = await fallbackOf(runId);
      return novaAnswer(samples, answer.step, answer.rewards, fallback);
    },
  );

  /** The step's summary, if the run still holds it (its last 20 steps). */
  const stepSummary = (runId: string, step: number) =>
    options.client.workflow
      .getHandle(runId)
      .query<unknown, [number]>('stepSummary', step)
      .catch(() => null);

  return Object.assign(app, { batcher });
}

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

function headerKey(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}

function uniqueIds(rollouts: Rollout[]): void {
  if (rollouts.length > 100_000) throw new HttpError(413, 'batch_too_large', `${rollouts.length} rollouts in one request: at most 100000`);
  const seen = new Set<string>();
  for (const [i, r] of rollouts.entries()) {
    if (seen.has(r.id)) throw new HttpError(422, 'invalid_request', `body/rollouts/${i}/id: ${JSON.stringify(r.id)} repeats an earlier id`);
    seen.add(r.id);
  }
}
