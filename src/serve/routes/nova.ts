import type { FastifyPluginAsync } from 'fastify';
import { floatJson } from '../float-json';
import { runIdParam } from '../schemas';
import { headerKey, type ServeContext } from '../serve-context';
import { novaAnswer, novaRollouts, requestKey, type NovaSample } from '../wire-shapes';

/** The Amazon Nova RFT reward Lambda's payload, posted to the service (or forwarded by nova-lambda.ts). */
export const novaRoutes: FastifyPluginAsync<ServeContext> = async (app, ctx) => {
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
              metadata: { type: 'object' },
              reference_answer: {},
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const samples = request.body;
      const key = requestKey(headerKey(request), 'nova', samples);
      const answer = await ctx.runs(runId).rewards(key, novaRollouts(samples));
      const fallback = await ctx.fallbackOf(runId);
      // Scores and metric values as floats, as the reward Lambda's contract types them.
      return reply.type('application/json').send(floatJson(novaAnswer(samples, answer.step, answer.rewards, fallback)));
    },
  );

};
