import type { FastifyPluginAsync } from 'fastify';
import { floatJson } from '../float-json';
import { HttpError } from '../http-error';
import { runIdParam } from '../schemas';
import { headerKey, type ServeContext } from '../serve-context';
import { openRlhfAnswer, openRlhfRollouts, requestKey, type OpenRlhfRequest } from '../wire-shapes';

/** OpenRLHF's remote reward model: `--remote_rm_url http://<host>/openrlhf/<run>`. */
export const openRlhfRoutes: FastifyPluginAsync<ServeContext> = async (app, ctx) => {
  app.post<{ Params: { runId: string }; Body: OpenRlhfRequest }>(
    '/openrlhf/:runId',
    {
      schema: {
        params: runIdParam,
        body: {
          type: 'object',
          required: ['query'],
          properties: {
            query: { type: 'array', items: { type: 'string' } },
            prompts: { type: 'array', items: { type: 'string' } },
            labels: { type: 'array' },
          },
        },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const body = request.body;
      for (const field of ['prompts', 'labels'] as const) {
        const list = body[field];
        if (list && list.length !== body.query.length) {
          throw new HttpError(422, 'invalid_request', `body/${field} has ${list.length} items for ${body.query.length} queries: one per query`);
        }
      }
      // OpenRLHF before 0.11 shards one sample over every --reward.remote_url and posts empty lists
      // to the others: nothing to score, and nothing to ask the run.
      if (body.query.length === 0) return reply.type('application/json').send(floatJson(openRlhfAnswer(undefined, [], 0)));
      const key = requestKey(headerKey(request), 'openrlhf', body);
      // After the answer: a run started by this very request is there to ask.
      const answer = await ctx.runs(runId).rewards(key, openRlhfRollouts(body, ctx.chatTemplate));
      const fallback = await ctx.fallbackOf(runId);
      // Whole numbers as floats: OpenRLHF makes tensors of these lists without a dtype.
      return reply.type('application/json').send(floatJson(openRlhfAnswer(answer.step, answer.rewards, fallback)));
    },
  );
};
