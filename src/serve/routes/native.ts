import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import type { Rollout } from '../../config/rollout';
import { RunConfigSchema, type RunConfigInput } from '../../config/run-config';
import { describeZodIssues } from '../../config/validation-error';
import { rftRun } from '../../../workflows/rft-run';
import { HttpError } from '../http-error';
import { rewardsBody, runIdParam } from '../schemas';
import { headerKey, uniqueIds, type ServeContext } from '../serve-context';
import { requestKey } from '../wire-shapes';

/** The native API: create a run, score a whole step, or score a batch the run numbers into a step. */
export const nativeRoutes: FastifyPluginAsync<ServeContext> = async (app, ctx) => {
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
        await ctx.client.workflow.start(rftRun, {
          workflowId: runId,
          taskQueue: ctx.taskQueue,
          args: [request.body],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: `run ${runId}, fed by arbiter serve`,
        });
        return reply.status(201).send({ runId, created: true });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Idempotent: the run exists (open or closed); say which.
        const description = await ctx.client.workflow.getHandle(runId).describe();
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
      const answer = await ctx.runs(runId).rewards(`step:${step}`, rollouts, step);
      return { runId, step, rewards: answer.rewards, summary: await ctx.stepSummary(runId, step), replayed: answer.replayed };
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
      const answer = await ctx.runs(runId).rewards(key, rollouts);
      return { runId, step: answer.step ?? null, rewards: answer.rewards, summary: answer.step === undefined ? null : await ctx.stepSummary(runId, answer.step), replayed: answer.replayed };
    },
  );
};
