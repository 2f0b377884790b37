import type { Client } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import type { Rollout } from '../config/rollout';
import { HttpError } from './http-error';
import type { RunRequests } from './run-requests';
import type { ChatTemplateSettings } from './chat-template';

/** What every route plugin of the service is given: its way into runs, and nothing else. */
export interface ServeContext {
  client: Client;
  taskQueue: string;
  /** The service's way into one run: its requests go there, answers come back from there. */
  runs(runId: string): RunRequests;
  /** The number a shape that needs one gives an excluded or refused sample: the run's neutral fallback reward. */
  fallbackOf(runId: string): Promise<number>;
  /** The step's summary, if the run still holds it (its last 20 steps). */
  stepSummary(runId: string, step: number): Promise<unknown>;
  /** How OpenRLHF's decoded text is read (`--chat-template`, `--special-token`). */
  chatTemplate: ChatTemplateSettings;
}

/** The request's `Idempotency-Key` header, when it has one. */
export function headerKey(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}

/** Refuses a batch with a repeated id (named) or too many rollouts. */
export function uniqueIds(rollouts: Rollout[]): void {
  if (rollouts.length > 100_000) throw new HttpError(413, 'batch_too_large', `${rollouts.length} rollouts in one request: at most 100000`);
  const seen = new Set<string>();
  for (const [i, r] of rollouts.entries()) {
    if (seen.has(r.id)) throw new HttpError(422, 'invalid_request', `body/rollouts/${i}/id: ${JSON.stringify(r.id)} repeats an earlier id`);
    seen.add(r.id);
  }
}
